/// Reads typed keyword values out of a schema object, with errors that name the
/// keyword's place in the schema file.
struct SchemaKeywordReader {
    let object: JSONObject
    let location: String

    static let validationKeywords: Set<String> = [
        "type", "required", "properties", "additionalProperties", "enum", "const", "pattern",
        "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength",
        "maxLength", "minItems", "maxItems", "uniqueItems", "items", "anyOf",
    ]
    static let annotationKeywords: Set<String> = [
        "$schema", "$id", "$comment", "title", "description", "examples", "default", "deprecated",
        "readOnly", "writeOnly",
    ]

    func rejectUnknownKeywords() throws(SchemaError) {
        for key in object.keys where !Self.validationKeywords.contains(key) && !Self.annotationKeywords.contains(key) {
            throw SchemaError(
                location: "\(location)/\(key)",
                reason: "unsupported keyword \"\(key)\"; supported: \(Self.validationKeywords.sorted().joined(separator: ", "))")
        }
    }

    func types() throws(SchemaError) -> [SchemaType]? {
        switch object["type"] {
        case nil: return nil
        case .string(let name)?: return [try type(named: name)]
        case .array(let names)?:
            var result: [SchemaType] = []
            for name in names {
                guard case .string(let text) = name else { throw wrong("type", "a string or an array of strings") }
                result.append(try type(named: text))
            }
            return result
        default: throw wrong("type", "a string or an array of strings")
        }
    }

    private func type(named name: String) throws(SchemaError) -> SchemaType {
        guard let type = SchemaType(rawValue: name) else {
            throw SchemaError(location: "\(location)/type", reason: "unknown type \"\(name)\"")
        }
        return type
    }

    func string(_ key: String) throws(SchemaError) -> String? {
        guard let value = object[key] else { return nil }
        guard case .string(let string) = value else { throw wrong(key, "a string") }
        return string
    }

    func bool(_ key: String) throws(SchemaError) -> Bool? {
        guard let value = object[key] else { return nil }
        guard case .bool(let flag) = value else { throw wrong(key, "true or false") }
        return flag
    }

    func number(_ key: String) throws(SchemaError) -> Double? {
        guard let value = object[key] else { return nil }
        guard case .number(let number) = value else { throw wrong(key, "a number") }
        return number.doubleValue
    }

    func count(_ key: String) throws(SchemaError) -> Int? {
        guard let value = object[key] else { return nil }
        guard case .number(let number) = value, number.isInteger, number.doubleValue >= 0 else {
            throw wrong(key, "a non-negative integer")
        }
        return Int(number.doubleValue)
    }

    func array(_ key: String) throws(SchemaError) -> [JSONValue]? {
        guard let value = object[key] else { return nil }
        guard case .array(let elements) = value else { throw wrong(key, "an array") }
        return elements
    }

    func stringArray(_ key: String) throws(SchemaError) -> [String]? {
        guard let elements = try array(key) else { return nil }
        var strings: [String] = []
        for element in elements {
            guard case .string(let string) = element else { throw wrong(key, "an array of strings") }
            strings.append(string)
        }
        return strings
    }

    func object(_ key: String) throws(SchemaError) -> JSONObject? {
        guard let value = object[key] else { return nil }
        guard case .object(let nested) = value else { throw wrong(key, "an object") }
        return nested
    }

    private func wrong(_ key: String, _ expected: String) -> SchemaError {
        SchemaError(location: "\(location)/\(key)", reason: "\"\(key)\" must be \(expected)")
    }
}

enum SchemaType: String, Sendable {
    case null, boolean, integer, number, string, array, object

    func matches(_ value: JSONValue) -> Bool {
        switch (self, value) {
        case (.null, .null), (.boolean, .bool), (.number, .number), (.string, .string), (.array, .array), (.object, .object):
            return true
        case (.integer, .number(let number)):
            return number.isInteger
        default:
            return false
        }
    }

    static func name(of value: JSONValue) -> String {
        if case .number(let number) = value { return number.isInteger ? "an integer" : "a number" }
        let name = value.typeName
        return "\(article(name)) \(name)"
    }

    static func article(_ word: String) -> String {
        guard let first = word.first else { return "a" }
        return "aeio".contains(first) ? "an" : "a"
    }
}
