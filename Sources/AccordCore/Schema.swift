/// A compiled JSON Schema (the draft 2020-12 subset the contract names, plus a few
/// neighbours: const, anyOf, minLength/maxLength, maximum, maxItems, uniqueItems).
///
/// Compiling rejects keywords it does not implement, so a schema never silently
/// validates less than its author meant.
package final class Schema: Sendable {
    let types: [SchemaType]?
    let required: [String]
    let properties: [String: Schema]
    let additionalProperties: Schema?
    let forbidsAdditionalProperties: Bool
    let enumValues: [JSONValue]?
    let constValue: JSONValue?
    let pattern: SchemaPattern?
    let format: DateFormat?
    let minimum: Double?
    let maximum: Double?
    let exclusiveMinimum: Double?
    let exclusiveMaximum: Double?
    let minLength: Int?
    let maxLength: Int?
    let minItems: Int?
    let maxItems: Int?
    let uniqueItems: Bool
    let items: Schema?
    let anyOf: [Schema]?
    let alwaysFails: Bool

    /// Compiles `value`; `location` is the JSON pointer inside the schema file, for errors.
    package init(_ value: JSONValue, location: String = "") throws(SchemaError) {
        if case .bool(let flag) = value {
            self.alwaysFails = !flag
            types = nil; required = []; properties = [:]; additionalProperties = nil
            forbidsAdditionalProperties = false; enumValues = nil; constValue = nil; pattern = nil
            format = nil; minimum = nil; maximum = nil; exclusiveMinimum = nil; exclusiveMaximum = nil
            minLength = nil; maxLength = nil; minItems = nil; maxItems = nil; uniqueItems = false
            items = nil; anyOf = nil
            return
        }
        guard case .object(let object) = value else {
            throw SchemaError(location: location, reason: "a schema must be an object or a boolean")
        }
        let reader = SchemaKeywordReader(object: object, location: location)
        try reader.rejectUnknownKeywords()
        alwaysFails = false
        types = try reader.types()
        required = try reader.stringArray("required") ?? []
        var compiledProperties: [String: Schema] = [:]
        if let propertyObject = try reader.object("properties") {
            for member in propertyObject {
                compiledProperties[member.key] = try Schema(member.value, location: "\(location)/properties/\(member.key)")
            }
        }
        properties = compiledProperties
        switch object["additionalProperties"] {
        case nil, .bool(true)?:
            additionalProperties = nil
            forbidsAdditionalProperties = false
        case .bool(false)?:
            additionalProperties = nil
            forbidsAdditionalProperties = true
        case let other?:
            additionalProperties = try Schema(other, location: "\(location)/additionalProperties")
            forbidsAdditionalProperties = false
        }
        enumValues = try reader.array("enum")
        constValue = object["const"]
        if let source = try reader.string("pattern") {
            do {
                pattern = try SchemaPattern(source)
            } catch {
                throw SchemaError(location: "\(location)/pattern", reason: error.reason)
            }
        } else {
            pattern = nil
        }
        if let name = try reader.string("format") {
            guard let known = DateFormat(rawValue: name) else {
                throw SchemaError(location: "\(location)/format", reason: "unsupported format \"\(name)\"; supported: date, date-time")
            }
            format = known
        } else {
            format = nil
        }
        minimum = try reader.number("minimum")
        maximum = try reader.number("maximum")
        exclusiveMinimum = try reader.number("exclusiveMinimum")
        exclusiveMaximum = try reader.number("exclusiveMaximum")
        minLength = try reader.count("minLength")
        maxLength = try reader.count("maxLength")
        minItems = try reader.count("minItems")
        maxItems = try reader.count("maxItems")
        uniqueItems = try reader.bool("uniqueItems") ?? false
        if let itemSchema = object["items"] {
            items = try Schema(itemSchema, location: "\(location)/items")
        } else {
            items = nil
        }
        if let alternatives = try reader.array("anyOf") {
            guard !alternatives.isEmpty else { throw SchemaError(location: "\(location)/anyOf", reason: "anyOf must not be empty") }
            var compiled: [Schema] = []
            for (index, alternative) in alternatives.enumerated() {
                compiled.append(try Schema(alternative, location: "\(location)/anyOf/\(index)"))
            }
            anyOf = compiled
        } else {
            anyOf = nil
        }
    }

    /// Every violation in `value`, each with the JSON pointer of the offending place.
    package func validate(_ value: JSONValue) -> [SchemaViolation] {
        var violations: [SchemaViolation] = []
        validate(value, at: SchemaLocation(parent: "", key: nil), into: &violations)
        return violations
    }

    func validate(_ value: JSONValue, at location: SchemaLocation, into violations: inout [SchemaViolation]) {
        if alwaysFails {
            violations.append(SchemaViolation(path: location.pointer, message: "is not allowed here"))
            return
        }
        if let types, !types.contains(where: { $0.matches(value) }) {
            let names = types.map(\.rawValue).joined(separator: " or ")
            violations.append(
                SchemaViolation(path: location.pointer, message: "must be \(SchemaType.article(names)) \(names), not \(SchemaType.name(of: value))"))
            return
        }
        if let constValue, value != constValue {
            violations.append(SchemaViolation(path: location.pointer, message: "must be \(JSONWriter.line(constValue))"))
        }
        if let enumValues, !enumValues.contains(value) {
            let choices = enumValues.map { $0.stringValue ?? JSONWriter.line($0) }.joined(separator: ", ")
            violations.append(SchemaViolation(path: location.pointer, message: "\(JSONWriter.line(value)) is not one of: \(choices)"))
        }
        if let anyOf {
            var reasons: [String] = []
            var matched = false
            for alternative in anyOf {
                var found: [SchemaViolation] = []
                alternative.validate(value, at: location, into: &found)
                if found.isEmpty {
                    matched = true
                    break
                }
                reasons.append(contentsOf: found.map(\.message))
            }
            if !matched {
                violations.append(SchemaViolation(path: location.pointer, message: "matches none of the allowed forms (\(reasons.joined(separator: "; ")))"))
            }
        }
        switch value {
        case .object(let object): validateObject(object, at: location, into: &violations)
        case .array(let elements): validateArray(elements, at: location, into: &violations)
        case .string(let string): validateString(string, at: location, into: &violations)
        case .number(let number): validateNumber(number, at: location, into: &violations)
        case .null, .bool: break
        }
    }

    private func validateObject(_ object: JSONObject, at location: SchemaLocation, into violations: inout [SchemaViolation]) {
        let here = location.pointer
        for name in required where object[name] == nil {
            violations.append(SchemaViolation(path: "\(here)/\(SchemaViolation.escape(name))", message: "required field is missing"))
        }
        for member in object {
            let memberLocation = SchemaLocation(parent: here, key: member.key)
            if let schema = properties[member.key] {
                schema.validate(member.value, at: memberLocation, into: &violations)
            } else if forbidsAdditionalProperties {
                violations.append(SchemaViolation(path: memberLocation.pointer, message: "field is not allowed by the schema"))
            } else if let additionalProperties {
                additionalProperties.validate(member.value, at: memberLocation, into: &violations)
            }
        }
    }

    private func validateArray(_ elements: [JSONValue], at location: SchemaLocation, into violations: inout [SchemaViolation]) {
        if let minItems, elements.count < minItems {
            violations.append(
                SchemaViolation(path: location.pointer, message: "must have at least \(minItems) item\(minItems == 1 ? "" : "s"), has \(elements.count)"))
        }
        if let maxItems, elements.count > maxItems {
            violations.append(
                SchemaViolation(path: location.pointer, message: "must have at most \(maxItems) item\(maxItems == 1 ? "" : "s"), has \(elements.count)"))
        }
        if uniqueItems, Set(elements).count != elements.count {
            violations.append(SchemaViolation(path: location.pointer, message: "must not contain the same item twice"))
        }
        if let items {
            let here = location.pointer
            for (index, element) in elements.enumerated() {
                items.validate(element, at: SchemaLocation(parent: here, key: String(index)), into: &violations)
            }
        }
    }

    private func validateString(_ string: String, at location: SchemaLocation, into violations: inout [SchemaViolation]) {
        // UTF-8 length bounds the scalar count (1 to 4 bytes each): count only when unsure.
        let bytes = string.utf8.count
        if (minLength.map { bytes < $0 * 4 } ?? false) || (maxLength.map { bytes > $0 } ?? false) {
            let length = string.unicodeScalars.count
            if let minLength, length < minLength {
                violations.append(
                    SchemaViolation(path: location.pointer, message: minLength == 1 ? "must not be empty" : "must be at least \(minLength) characters long"))
            }
            if let maxLength, length > maxLength {
                violations.append(SchemaViolation(path: location.pointer, message: "must be at most \(maxLength) characters long"))
            }
        }
        if let pattern, !pattern.matches(string) {
            violations.append(SchemaViolation(path: location.pointer, message: "\(JSONWriter.line(.string(string))) does not match \(pattern.source)"))
        }
        if let format, !format.accepts(string) {
            violations.append(
                SchemaViolation(path: location.pointer, message: "\(JSONWriter.line(.string(string))) is not a valid \(format.rawValue) (\(format.example))"))
        }
    }

    private func validateNumber(_ number: JSONNumber, at location: SchemaLocation, into violations: inout [SchemaViolation]) {
        let value = number.doubleValue
        if let minimum, !(value >= minimum) {
            violations.append(SchemaViolation(path: location.pointer, message: "must be >= \(JSONNumber(minimum))"))
        }
        if let maximum, !(value <= maximum) {
            violations.append(SchemaViolation(path: location.pointer, message: "must be <= \(JSONNumber(maximum))"))
        }
        if let exclusiveMinimum, !(value > exclusiveMinimum) {
            violations.append(SchemaViolation(path: location.pointer, message: "must be > \(JSONNumber(exclusiveMinimum))"))
        }
        if let exclusiveMaximum, !(value < exclusiveMaximum) {
            violations.append(SchemaViolation(path: location.pointer, message: "must be < \(JSONNumber(exclusiveMaximum))"))
        }
    }
}

/// Where validation stands, kept as parent pointer plus key so that the full JSON
/// pointer string is only built for objects, arrays and violations, not for every field.
struct SchemaLocation {
    let parent: String
    let key: String?

    var pointer: String {
        guard let key else { return parent }
        return parent + "/" + SchemaViolation.escape(key)
    }
}

/// One way a value breaks its schema; `path` is a JSON pointer (`/value/amount`).
package struct SchemaViolation: Sendable, Hashable, CustomStringConvertible {
    package var path: String
    package var message: String

    package var description: String { "\(path.isEmpty ? "/" : path): \(message)" }

    static func escape(_ key: String) -> String {
        guard key.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return key }
        var escaped = ""
        for character in key {
            switch character {
            case "~": escaped += "~0"
            case "/": escaped += "~1"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}

/// A schema file that cannot be used, and where in it.
package struct SchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    package var file: String?
    package var location: String
    package var reason: String

    package init(file: String? = nil, location: String, reason: String) {
        self.file = file
        self.location = location
        self.reason = reason
    }

    package var description: String {
        let place = location.isEmpty ? "/" : location
        if let file { return "\(file): \(place): \(reason)" }
        return "\(place): \(reason)"
    }
}
