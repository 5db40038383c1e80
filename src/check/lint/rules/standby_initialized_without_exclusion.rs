//! RB102: a Standby is initialized without having been excluded (invariant 4).

use crate::check::lint::model_verdict::{help_line, init_of_initialized_standby};
use crate::check::lint::{declare_rule, LintContext, Sink};
use crate::cluster::Operation;

declare_rule! {
    /// ## What it does
    /// Flags a Standby initialized without having been excluded first. It
    /// fires on an `init-standby` (full replication) of a server that is not
    /// known, on every path to it, to be either excluded from replication or
    /// never initialized (`state == STB_NO_REP`). It follows the cluster
    /// model: `exclude`, `stop-replication` and `restore-backup` (for
    /// Standbys) make a server ready, and so does an `upgrade` (the installer
    /// leaves an upgraded Standby uninitialized, `STB_NO_REP`), so the
    /// procedure page's order, each Standby initialized right after its
    /// upgrade, is fine; an `init-standby` makes it initialized again.
    ///
    /// ## Why is this bad?
    /// Invariant 4 of the HA model: the product refuses to initialize a
    /// Standby that is already initialized, so the step fails halfway through
    /// the upgrade; the initialized one must be excluded first. The shipped
    /// `lib/init-standby.runbook` procedure does it; calling it
    /// (`call init-standby(server: standby)`) is the safe way.
    ///
    /// ## Example
    /// ```runbook
    /// for standby in standbys() {
    ///     init-standby(server: standby)
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```runbook
    /// for standby in standbys() {
    ///     if standby.state != STB_NO_REP {
    ///         exclude(server: standby)
    ///     }
    ///     init-standby(server: standby)
    /// }
    /// ```
    code: "RB102",
    name: "standby-initialized-without-exclusion",
    severity: Error,
    domain: true,
    check: check,
}

fn check(context: &LintContext<'_>, sink: &mut Sink) {
    for visit in &context.flow().operations {
        let Operation::InitStandby { server } = &visit.operation else {
            continue;
        };
        if visit.before.is_ready_for_init() {
            continue;
        }
        let diagnostic = sink.report(
            visit.span,
            format!(
                "`{server}` is initialized without having been excluded from replication first"
            ),
        );
        diagnostic.label(match &visit.via_procedure {
            Some(procedure) => {
                format!("initializes a possibly initialized Standby (in `{procedure}`)")
            }
            None => "initializes a possibly initialized Standby".to_owned(),
        });
        diagnostic.help(format!(
            "Exclude it first (`exclude(server: {server})`) unless `{server}.state == STB_NO_REP`, or use `call init-standby(server: {server})`.{}",
            help_line(init_of_initialized_standby("the Active", server))
        ));
    }
}
