public import Foundation

/// JSON coding as the API expects it: lowerCamelCase out, and in, both lowerCamelCase and
/// snake_case at any depth (the server and the SDK mix them).
public enum WireCoding {
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .custom { path in
            let key = path.last!
            guard key.stringValue.contains("_"), !key.stringValue.hasPrefix("@") else { return key }
            return WireKey(stringValue: camelCased(key.stringValue))
        }
        return decoder
    }

    /// Sorted keys: the same value always encodes to the same bytes.
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// `inline_data` → `inlineData`.
    static func camelCased(_ snake: String) -> String {
        var result = ""
        var upperNext = false
        for character in snake {
            if character == "_" {
                upperNext = !result.isEmpty
            } else if upperNext {
                result += character.uppercased()
                upperNext = false
            } else {
                result.append(character)
            }
        }
        return result
    }

    private struct WireKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
