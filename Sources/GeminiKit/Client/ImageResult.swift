public import Foundation

/// What one image call produced, interpreted: never an empty success.
public struct ImageResult: Sendable {
    public enum Outcome: Sendable, Hashable {
        case success
        /// `NO_IMAGE`, or `STOP` with no image part.
        case noImage
        /// Blocked for safety or prohibited content, with the category.
        case blocked(reason: String)
        case recitation
        case maxTokens
        case other(String)
    }

    public var outcome: Outcome
    /// The final image (interim `thought` images skipped).
    public var image: Data?
    /// From `inlineData.mimeType`, checked against the magic bytes.
    public var mimeType: String?
    /// Text parts, thoughts excluded.
    public var text: String
    /// The `ALT: …` line of the text, when present.
    public var altText: String?
    public var finishReason: FinishReason?
    public var finishMessage: String?
    public var grounding: GroundingMetadata?
    public var usage: UsageMetadata?
    public var modelVersion: String?
    public var responseID: String?

    /// Interprets a response.
    public init(_ response: GenerateContentResponse) {
        modelVersion = response.modelVersion
        responseID = response.responseId
        usage = response.usageMetadata
        if let block = response.promptFeedback?.blockReason, response.candidates?.isEmpty ?? true {
            outcome = .blocked(reason: "prompt blocked: \(block.rawValue)")
            text = ""
            return
        }
        let candidate = response.candidates?.first
        finishReason = candidate?.finishReason
        finishMessage = candidate?.finishMessage
        grounding = candidate?.groundingMetadata
        let parts = (candidate?.content?.parts ?? []).filter { $0.thought != true }
        text = parts.compactMap(\.text).joined(separator: "\n")
        altText = Self.altText(in: text)
        if let last = parts.last(where: { $0.inlineData != nil })?.inlineData, let data = Data(base64Encoded: last.data) {
            image = data
            mimeType = Self.sniffMimeType(data) ?? last.mimeType
        }
        switch candidate?.finishReason {
        case .stop?, nil:
            outcome = image == nil ? .noImage : .success
        case .noImage?:
            outcome = .noImage
        case .safety?, .imageSafety?, .prohibitedContent?, .imageProhibitedContent?, .blocklist?, .spii?:
            let categories = (candidate?.safetyRatings ?? []).filter { $0.blocked == true }.compactMap(\.category)
            outcome = .blocked(reason: ([candidate!.finishReason!.rawValue] + categories).joined(separator: ", "))
        case .recitation?, .imageRecitation?:
            outcome = .recitation
        case .maxTokens?:
            outcome = .maxTokens
        case let other?:
            outcome = image == nil ? .other(other.rawValue) : .success
        }
    }

    /// The text after the last `ALT:` marker, on its line.
    public static func altText(in text: String) -> String? {
        for line in text.split(separator: "\n").reversed() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.uppercased().hasPrefix("ALT:") {
                let value = trimmed.dropFirst(4).trimmingCharacters(in: .whitespaces)
                return value.isEmpty ? nil : value
            }
        }
        return nil
    }

    /// The format from the first bytes, whatever the server claimed.
    static func sniffMimeType(_ data: Data) -> String? {
        if data.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return "image/png" }
        if data.starts(with: [0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if data.count > 12, data[data.startIndex + 8..<data.startIndex + 12].elementsEqual(Array("WEBP".utf8)) { return "image/webp" }
        return nil
    }

    /// Pixel size from a PNG or JPEG header, for checking the ratio the proxy may have dropped.
    public var pixelSize: (width: Int, height: Int)? {
        guard let image else { return nil }
        let bytes = [UInt8](image.prefix(64 << 10))
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]), bytes.count >= 24 {
            func int(_ at: Int) -> Int { bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
            return (int(16), int(20))
        }
        // JPEG: walk segments to a start-of-frame marker.
        var index = 2
        while index + 9 < bytes.count, bytes[index] == 0xFF {
            let marker = bytes[index + 1]
            let length = Int(bytes[index + 2]) << 8 | Int(bytes[index + 3])
            if (0xC0...0xCF).contains(marker), marker != 0xC4, marker != 0xC8, marker != 0xCC {
                return (Int(bytes[index + 7]) << 8 | Int(bytes[index + 8]), Int(bytes[index + 5]) << 8 | Int(bytes[index + 6]))
            }
            index += 2 + length
        }
        return nil
    }

    /// Whether the image's shape is within `tolerance` of the requested ratio (proxies silently
    /// drop `imageConfig`).
    public func matches(aspectRatio: String, tolerance: Double = 0.03) -> Bool? {
        guard let size = pixelSize, size.height > 0 else { return nil }
        let parts = aspectRatio.split(separator: ":").compactMap { Double($0) }
        guard parts.count == 2, parts[1] > 0 else { return nil }
        let wanted = parts[0] / parts[1]
        let actual = Double(size.width) / Double(size.height)
        return abs(actual - wanted) / wanted <= tolerance
    }
}
