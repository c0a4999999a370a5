import { Global, Module } from '@nestjs/common';
import { ClusterLink } from '../cluster/cluster-link';
import { Metrics } from './metrics';
import { MetricsController } from './metrics.controller';

@Global()
@Module({
  controllers: [MetricsController],
  providers: [Metrics],
  exports: [Metrics],
})
export class MetricsModule {
  constructor(metrics: Metrics, cluster: ClusterLink) {
    cluster.serveMetrics(() => metrics.registry.getMetricsAsJSON());
  }
}
