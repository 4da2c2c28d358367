/// The release all three programs report with `--version`.
package enum AccordVersion {
    package static let string = "0.1.0"
}
