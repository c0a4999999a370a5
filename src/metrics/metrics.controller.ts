import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Public } from '../common/auth/public.decorator';
import { ClusterLink } from '../cluster/cluster-link';
import { Metrics } from './metrics';

@ApiTags('operations')
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: Metrics,
    private readonly cluster: ClusterLink,
  ) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Prometheus metrics',
    description:
      'HTTP latency by route and status, queue depth and wait, update outcomes, transaction time and group size, Node.js process metrics; with WORKERS > 1, the sum over every worker. Expose only to the monitoring network.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format.' })
  scrape(): Promise<string> {
    return this.cluster.inCluster ? this.cluster.clusterMetrics() : this.metrics.registry.metrics();
  }
}
