//! Static checks of a runbook before it runs: the verifier explores every
//! path against the cluster model (lint rules live here too).

pub mod verify;
