import { Global, Module } from '@nestjs/common';
import { Clock, SystemClock } from './clock';
import { ProblemsController } from './errors/problems.controller';
import { RouteTable } from './http/route-table';
import { ShutdownState } from './lifecycle/shutdown-state';

@Global()
@Module({
  controllers: [ProblemsController],
  providers: [{ provide: Clock, useClass: SystemClock }, ShutdownState, RouteTable],
  exports: [Clock, ShutdownState, RouteTable],
})
export class CommonModule {}
