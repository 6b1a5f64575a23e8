#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod crash;
mod id_check;
mod marketing;
mod policy_check;
mod policy_render;
mod rotation;
mod serve;
mod sweep;
mod tokens;
mod users;
mod vault_cmds;
