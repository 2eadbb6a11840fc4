mod a;
mod b;
extern "C" {
    fn grove_native(x: i32) -> i32;
}
pub fn names() -> String { format!("{}{}", a::NAME, b::NAME) }
pub const DATA: &str = include_str!("../data.txt");
pub fn env_value() -> &'static str { option_env!("GROVE_T_ENV").unwrap_or("unset") }
#[cfg(feature = "loud")]
pub const LOUD: bool = true;
#[cfg(not(feature = "loud"))]
pub const LOUD: bool = false;
#[cfg(grove_t_cfg)]
pub const CFG: bool = true;
#[cfg(not(grove_t_cfg))]
pub const CFG: bool = false;
pub fn native() -> i32 { unsafe { grove_native(2) } }
pub fn opt() -> bool { cfg!(debug_assertions) }
