/// An API enum that keeps values it does not know: the API adds values (24 finish reasons so
/// far) and a client that fails on a new one fails every call.
public protocol WireEnum: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Every known value, by its wire name.
    static var known: [String: Self] { get }
    /// A value this client does not know, kept verbatim.
    static func unknown(_ rawValue: String) -> Self
    var rawValue: String { get }
}

extension WireEnum {
    public init(rawValue: String) {
        self = Self.known[rawValue] ?? Self.unknown(rawValue)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self.init(rawValue: text)
        } else {
            // Integer enum values are accepted on the wire too; keep them as text.
            self.init(rawValue: String(try container.decode(Int.self)))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }
}

/// Why a candidate stopped (google-genai 3.4.0's full list).
public enum FinishReason: WireEnum {
    case unspecified, stop, maxTokens, safety, recitation, language, other, blocklist, prohibitedContent, spii
    case malformedFunctionCall, imageSafety, imageProhibitedContent, imageOther, noImage, imageRecitation
    case unexpectedToolCall, tooManyToolCalls, missingThoughtSignature, malformedResponse, escalation
    case pupLimitedDisabled, continuation, modelArmor
    case unknown(String)

    public static let known: [String: FinishReason] = [
        "FINISH_REASON_UNSPECIFIED": .unspecified, "STOP": .stop, "MAX_TOKENS": .maxTokens, "SAFETY": .safety,
        "RECITATION": .recitation, "LANGUAGE": .language, "OTHER": .other, "BLOCKLIST": .blocklist,
        "PROHIBITED_CONTENT": .prohibitedContent, "SPII": .spii, "MALFORMED_FUNCTION_CALL": .malformedFunctionCall,
        "IMAGE_SAFETY": .imageSafety, "IMAGE_PROHIBITED_CONTENT": .imageProhibitedContent, "IMAGE_OTHER": .imageOther,
        "NO_IMAGE": .noImage, "IMAGE_RECITATION": .imageRecitation, "UNEXPECTED_TOOL_CALL": .unexpectedToolCall,
        "TOO_MANY_TOOL_CALLS": .tooManyToolCalls, "MISSING_THOUGHT_SIGNATURE": .missingThoughtSignature,
        "MALFORMED_RESPONSE": .malformedResponse, "ESCALATION": .escalation, "PUP_LIMITED_DISABLED": .pupLimitedDisabled,
        "CONTINUATION": .continuation, "MODEL_ARMOR": .modelArmor,
    ]

    public var rawValue: String {
        if case .unknown(let value) = self { return value }
        return Self.known.first { $0.value == self }!.key
    }
}

/// Why a prompt was blocked before generation (Gemini API names).
public enum BlockReason: WireEnum {
    case unspecified, safety, other, blocklist, prohibitedContent, imageSafety
    case unknown(String)

    public static let known: [String: BlockReason] = [
        "BLOCK_REASON_UNSPECIFIED": .unspecified, "SAFETY": .safety, "OTHER": .other, "BLOCKLIST": .blocklist,
        "PROHIBITED_CONTENT": .prohibitedContent, "IMAGE_SAFETY": .imageSafety,
    ]

    public var rawValue: String {
        if case .unknown(let value) = self { return value }
        return Self.known.first { $0.value == self }!.key
    }
}

/// Input or output modality in token details.
public enum Modality: WireEnum {
    case unspecified, text, image, video, audio, document
    case unknown(String)

    public static let known: [String: Modality] = [
        "MODALITY_UNSPECIFIED": .unspecified, "TEXT": .text, "IMAGE": .image, "VIDEO": .video, "AUDIO": .audio,
        "DOCUMENT": .document,
    ]

    public var rawValue: String {
        if case .unknown(let value) = self { return value }
        return Self.known.first { $0.value == self }!.key
    }
}
