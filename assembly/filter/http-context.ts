// CONTRACT STUB (the telemetry/tracing engineer owns this file): the per-request pipeline.
import { HttpContextBase } from "../abi/contexts";
import { RootContextBase } from "../abi/contexts";

export class EdgewatchHttp extends HttpContextBase {
  constructor(id: u32, root: RootContextBase) { super(id, root); }
}
