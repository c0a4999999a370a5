import { Global, Module } from '@nestjs/common';
import { ClusterLink } from './cluster-link';

@Global()
@Module({
  providers: [ClusterLink],
  exports: [ClusterLink],
})
export class ClusterModule {}
