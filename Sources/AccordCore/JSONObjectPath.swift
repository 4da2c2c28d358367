extension JSONObject {
    /// The value at a path of object keys, or nil when any step is missing.
    package func value(at path: [String]) -> JSONValue? {
        guard let first = path.first else { return nil }
        guard path.count > 1 else { return self[first] }
        guard case .object(let inner) = self[first] else { return nil }
        return inner.value(at: Array(path.dropFirst()))
    }

    /// Sets (or, with nil, removes) the value at a path of object keys, creating the
    /// objects on the way; a non-object on the way is replaced.
    package mutating func setValue(_ value: JSONValue?, at path: [String]) {
        guard let first = path.first else { return }
        guard path.count > 1 else {
            self[first] = value
            return
        }
        var inner: JSONObject
        if case .object(let existing) = self[first] { inner = existing } else { inner = JSONObject() }
        inner.setValue(value, at: Array(path.dropFirst()))
        self[first] = .object(inner)
    }
}
