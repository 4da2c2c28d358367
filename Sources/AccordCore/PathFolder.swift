/// The folder part of a path, as `dirname` gives it: "." when the path has no slash,
/// "/" for a file at the top. Shared by the daemon (its state and socket folders),
/// accordctl (a socket folder it cannot enter) and accordhub copy (the lock's folder).
package enum PathFolder {
    package static func of(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
