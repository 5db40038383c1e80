//! One file per lint rule. Each file declares its `RULE` with
//! [`declare_rule!`](super::declare_rule) and a `check` function; the doc
//! comment of `RULE` is the rule's documentation.
//!
//! `RB0xx` are general rules; `RB1xx` are HA domain safety rules driven by
//! the cluster model (see [`super::flow`]).

pub mod active_server_excluded;
pub mod active_upgrade_without_what_if;
pub mod active_upgraded_while_standbys_replicate;
pub mod changes_discarded_without_warning;
pub mod choose_without_default;
pub mod duplicate_step_title;
pub mod empty_prompt_text;
pub mod force_activation_without_demotion;
pub mod shadowed_binding;
pub mod standby_initialized_without_exclusion;
pub mod unreachable_statement;
pub mod unreachable_what_if;
pub mod unused_binding;
pub mod unused_loop_variable;
pub mod unused_parameter;
pub mod unused_suppression;
pub mod urgent_step_without_time_window;
pub mod wait_without_timeout;
