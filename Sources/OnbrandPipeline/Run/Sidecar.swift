public import Foundation
import GeminiKit
public import OnbrandImage

/// `<name>.json` beside every image: what was asked, what came back, what it cost. Never holds
/// the API key.
public struct Sidecar: Sendable, Codable {
    public var productID: String
    public var templateID: String
    public var templateVersion: String
    /// The template's Merchant Center role (`image_link`, `lifestyle_image_link` …), if any.
    public var role: String?
    public var locale: String
    public var altText: String
    /// `model` (the model's ALT line) or `fallback` (built from product data).
    public var altTextSource: String
    /// What the alt-text check found in the text kept (warnings, or errors nothing could fix).
    public var altTextLint: [AltTextLinter.Finding]
    /// When the model's alt text was replaced: why.
    public var rejectedModelAltTextLint: [AltTextLinter.Finding]?
    /// Every alt text tried, in order (model, describe, repair, fallback), with its checks and cost.
    public var altTextAttempts: [AltTextAttempt]?
    public var model: String
    public var modelVersion: String?
    public var responseID: String?
    /// `gemini` or `emulator`.
    public var backend: String
    public var fingerprint: String
    public var finishReason: String?
    public var image: Image
    public var grounding: Grounding?
    /// What was checked in the image (ratio, size, Merchant Center rules, palette).
    public var verification: ImageVerification?
    /// The XMP written into the image (alt text, extended description, AI source type), or why none was.
    public var embeddedMetadata: EmbeddedMetadata?
    public var usage: Usage
    public var costUSD: Double
    public var startedAt: Date
    public var finishedAt: Date
    /// What `countTokens` said, for a request whose estimate was near the input limit.
    public var tokenCheck: TokenCheck? = nil

    public struct Image: Sendable, Codable {
        public var file: String
        public var mimeType: String?
        public var width: Int?
        public var height: Int?
        public var aspectRatio: String
        public var imageSize: String
        /// Whether the pixels are within 3 % of the requested ratio (proxies drop `imageConfig`).
        public var ratioMatches: Bool?
    }

    public struct AltTextAttempt: Sendable, Codable {
        /// `model`, `describe`, `repair` or `fallback`.
        public var source: String
        public var text: String
        public var lint: [AltTextLinter.Finding]
        public var costUSD: Double
        /// Why a describe or repair call brought no alt text back.
        public var error: String? = nil
    }

    public struct EmbeddedMetadata: Sendable, Codable {
        public var written: Bool
        public var altTextLanguages: [String]
        public var digitalSourceType: String?
        /// The caption written as `dc:description`, when the brand asks for captions.
        public var caption: String?
        public var problem: String?
    }

    public struct Grounding: Sendable, Codable {
        public var webSearchQueries: [String]
        public var imageSearchQueries: [String]
        public var sources: [Source]
        /// The Search suggestion HTML the grounding terms require to be shown.
        public var searchEntryPoint: String?

        public struct Source: Sendable, Codable {
            public var uri: String?
            public var title: String?
        }

        init(_ metadata: GroundingMetadata) {
            webSearchQueries = metadata.webSearchQueries ?? []
            imageSearchQueries = metadata.imageSearchQueries ?? []
            sources = (metadata.groundingChunks ?? []).map { chunk in
                Source(uri: chunk.web?.uri ?? chunk.image?.sourceUri, title: chunk.web?.title ?? chunk.image?.title)
            }
            searchEntryPoint = metadata.searchEntryPoint?.renderedContent
        }
    }

    public struct Usage: Sendable, Codable {
        public var promptTokens: Int
        public var promptImageTokens: Int
        public var outputImageTokens: Int
        public var outputTextTokens: Int
        public var thoughtsTokens: Int
        public var totalTokens: Int

        init(_ usage: UsageMetadata) {
            promptTokens = usage.promptTokenCount ?? 0
            promptImageTokens = usage.promptTokensDetails?.first { $0.modality == .image }?.tokenCount ?? 0
            outputImageTokens = usage.outputImageTokens
            outputTextTokens = max((usage.candidatesTokenCount ?? 0) - usage.outputImageTokens, 0)
            thoughtsTokens = usage.thoughtsTokenCount ?? 0
            totalTokens = usage.totalTokenCount ?? 0
        }
    }
}
