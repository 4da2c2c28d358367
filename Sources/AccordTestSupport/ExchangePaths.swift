import CLinux

/// Swaps two paths atomically (`renameat2(RENAME_EXCHANGE)`): what a hostile group
/// member can do to a folder in the root between the daemon's check and its write.
/// True when the kernel did it.
package func exchangePaths(_ first: String, _ second: String) -> Bool {
    accord_exchange_paths(first, second) == 0
}
