pub const NAME: &str = "A";
