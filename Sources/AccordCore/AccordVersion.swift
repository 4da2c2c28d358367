/// The release all three programs report with `--version`.
public enum AccordVersion {
    public static let string = "0.1.0"
}
