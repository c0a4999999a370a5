import { Global, Module } from '@nestjs/common';
import { Clock, SystemClock } from './clock';
import { ShutdownState } from './lifecycle/shutdown-state';

@Global()
@Module({
  providers: [{ provide: Clock, useClass: SystemClock }, ShutdownState],
  exports: [Clock, ShutdownState],
})
export class CommonModule {}
