import AccordCore

#if canImport(Glibc)
    import Glibc
#endif

/// Loads every `<kind>.schema.json` of a folder into a `SchemaSet`.
package enum SchemaDirectory {
    /// Where schemas are looked for when none is named: the installed folder, then the
    /// checkout's `config/schemas` (found from the working directory).
    package static let installed = "/etc/accord/schemas"

    package static func load(_ directory: String) throws(SchemaLoadError) -> SchemaSet {
        guard let dir = opendir(directory) else {
            throw SchemaLoadError(message: "cannot open schema folder \(directory): \(FileReader.errnoText()); pass --schemas DIR")
        }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = String(cString: DirectoryEntry.name(entry))
            if SchemaSet.kind(forFileName: name) != nil { names.append(name) }
        }
        closedir(dir)
        var set = SchemaSet(origin: directory)
        for name in names.sorted() {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            let bytes: [UInt8]
            do {
                bytes = try FileReader.readRegularFile(path, maxBytes: 4 << 20)
            } catch {
                throw SchemaLoadError(message: "cannot read schema \(error.description)")
            }
            do {
                try set.add(kind: SchemaSet.kind(forFileName: name)!, fileName: path, bytes: bytes)
            } catch {
                throw SchemaLoadError(message: "invalid schema \(error.description)")
            }
        }
        guard !set.schemas.isEmpty else {
            throw SchemaLoadError(message: "no schemas (*.schema.json) in \(directory); pass --schemas DIR")
        }
        return set
    }

    /// The folder to use when the user named none: the installed one if present,
    /// else `config/schemas` under the working directory or one of its parents.
    package static func defaultDirectory(workingDirectory: String) -> String? {
        if isDirectory(installed) { return installed }
        var folder = workingDirectory
        while true {
            let candidate = (folder == "/" ? "" : folder) + "/config/schemas"
            if isDirectory(candidate) { return candidate }
            guard let slash = folder.lastIndex(of: "/"), folder != "/" else { return nil }
            folder = slash == folder.startIndex ? "/" : String(folder[..<slash])
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }
}

package struct SchemaLoadError: Error, Sendable, CustomStringConvertible {
    package var message: String
    package var description: String { message }
}
