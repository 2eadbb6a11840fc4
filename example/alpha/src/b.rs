pub const NAME: &str = "B";
