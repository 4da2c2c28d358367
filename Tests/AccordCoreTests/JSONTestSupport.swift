@testable import AccordCore

/// Parses a JSON object literal written in a test; a typo in a table fails loudly.
func object(_ text: String) -> JSONObject {
    guard let value = try? JSONParser.parse(text), case .object(let object) = value else {
        fatalError("test fixture is not a JSON object: \(text)")
    }
    return object
}

func optionalObject(_ text: String?) -> JSONObject? {
    text.map(object)
}
