/// The answer to `generateContent` (and each chunk of `streamGenerateContent`); spec §1.3.
///
/// Every field is optional: real bodies omit what they have nothing for (a blocked prompt has no
/// candidates, image models often send no safety ratings). Unknown fields are ignored.
public struct GenerateContentResponse: Sendable, Hashable, Codable {
    public var candidates: [Candidate]?
    public var promptFeedback: PromptFeedback?
    public var usageMetadata: UsageMetadata?
    public var modelVersion: String?
    public var responseId: String?

    public init(
        candidates: [Candidate]? = nil, promptFeedback: PromptFeedback? = nil, usageMetadata: UsageMetadata? = nil,
        modelVersion: String? = nil, responseId: String? = nil
    ) {
        self.candidates = candidates
        self.promptFeedback = promptFeedback
        self.usageMetadata = usageMetadata
        self.modelVersion = modelVersion
        self.responseId = responseId
    }
}

public struct Candidate: Sendable, Hashable, Codable {
    /// May have no parts when the candidate was blocked.
    public var content: ResponseContent?
    public var finishReason: FinishReason?
    /// Set with some finish reasons ("…Support code: …").
    public var finishMessage: String?
    public var safetyRatings: [SafetyRating]?
    public var groundingMetadata: GroundingMetadata?
    public var index: Int?
    public var tokenCount: Int?

    public init(
        content: ResponseContent? = nil, finishReason: FinishReason? = nil, finishMessage: String? = nil,
        safetyRatings: [SafetyRating]? = nil, groundingMetadata: GroundingMetadata? = nil, index: Int? = nil
    ) {
        self.content = content
        self.finishReason = finishReason
        self.finishMessage = finishMessage
        self.safetyRatings = safetyRatings
        self.groundingMetadata = groundingMetadata
        self.index = index
    }
}

/// A response turn: like ``Content``, but `parts` may be missing.
public struct ResponseContent: Sendable, Hashable, Codable {
    public var role: String?
    public var parts: [Part]?

    public init(role: String? = "model", parts: [Part]?) {
        self.role = role
        self.parts = parts
    }
}

public struct PromptFeedback: Sendable, Hashable, Codable {
    public var blockReason: BlockReason?
    public var safetyRatings: [SafetyRating]?

    public init(blockReason: BlockReason?, safetyRatings: [SafetyRating]? = nil) {
        self.blockReason = blockReason
        self.safetyRatings = safetyRatings
    }
}

public struct SafetyRating: Sendable, Hashable, Codable {
    /// `HARM_CATEGORY_…`, kept as text (the list differs between the Gemini API and Vertex).
    public var category: String?
    /// `NEGLIGIBLE`, `LOW`, `MEDIUM`, `HIGH`.
    public var probability: String?
    public var blocked: Bool?

    public init(category: String?, probability: String?, blocked: Bool? = nil) {
        self.category = category
        self.probability = probability
        self.blocked = blocked
    }
}

/// Token counts; every field may be missing and then counts as 0.
public struct UsageMetadata: Sendable, Hashable, Codable {
    public var promptTokenCount: Int?
    public var cachedContentTokenCount: Int?
    public var candidatesTokenCount: Int?
    public var thoughtsTokenCount: Int?
    public var toolUsePromptTokenCount: Int?
    public var totalTokenCount: Int?
    public var promptTokensDetails: [ModalityTokenCount]?
    public var cacheTokensDetails: [ModalityTokenCount]?
    public var candidatesTokensDetails: [ModalityTokenCount]?
    public var toolUsePromptTokensDetails: [ModalityTokenCount]?

    public init(
        promptTokenCount: Int? = nil, candidatesTokenCount: Int? = nil, thoughtsTokenCount: Int? = nil,
        totalTokenCount: Int? = nil, promptTokensDetails: [ModalityTokenCount]? = nil,
        candidatesTokensDetails: [ModalityTokenCount]? = nil
    ) {
        self.promptTokenCount = promptTokenCount
        self.candidatesTokenCount = candidatesTokenCount
        self.thoughtsTokenCount = thoughtsTokenCount
        self.totalTokenCount = totalTokenCount
        self.promptTokensDetails = promptTokensDetails
        self.candidatesTokensDetails = candidatesTokensDetails
    }

    /// Output image tokens: the `IMAGE` entry of the candidate details.
    public var outputImageTokens: Int {
        candidatesTokensDetails?.first { $0.modality == .image }?.tokenCount ?? 0
    }

    /// Output billed at the text rate: candidates minus image, plus thoughts. Image models may
    /// list only the IMAGE detail, so text is derived, not summed (spec §1.3).
    public var outputTextTokens: Int {
        max((candidatesTokenCount ?? 0) - outputImageTokens, 0) + (thoughtsTokenCount ?? 0)
    }

    public var inputTokens: Int { promptTokenCount ?? 0 }
}

public struct ModalityTokenCount: Sendable, Hashable, Codable {
    public var modality: Modality?
    public var tokenCount: Int?

    public init(modality: Modality, tokenCount: Int) {
        self.modality = modality
        self.tokenCount = tokenCount
    }
}

/// Where a grounded answer came from.
public struct GroundingMetadata: Sendable, Hashable, Codable {
    public var webSearchQueries: [String]?
    public var imageSearchQueries: [String]?
    public var searchEntryPoint: SearchEntryPoint?
    public var groundingChunks: [GroundingChunk]?
    public var groundingSupports: [GroundingSupport]?

    public init(
        webSearchQueries: [String]? = nil, imageSearchQueries: [String]? = nil, searchEntryPoint: SearchEntryPoint? = nil,
        groundingChunks: [GroundingChunk]? = nil, groundingSupports: [GroundingSupport]? = nil
    ) {
        self.webSearchQueries = webSearchQueries
        self.imageSearchQueries = imageSearchQueries
        self.searchEntryPoint = searchEntryPoint
        self.groundingChunks = groundingChunks
        self.groundingSupports = groundingSupports
    }

    public struct SearchEntryPoint: Sendable, Hashable, Codable {
        /// HTML and CSS to show as required by the grounding terms; kept in provenance.
        public var renderedContent: String?
        public var sdkBlob: String?

        public init(renderedContent: String?, sdkBlob: String? = nil) {
            self.renderedContent = renderedContent
            self.sdkBlob = sdkBlob
        }
    }

    public struct GroundingChunk: Sendable, Hashable, Codable {
        public var web: Web?
        public var image: Image?

        public init(web: Web? = nil, image: Image? = nil) {
            self.web = web
            self.image = image
        }

        public struct Web: Sendable, Hashable, Codable {
            /// A Google redirect link, not the publisher's URL.
            public var uri: String?
            /// The source's domain, in practice.
            public var title: String?

            public init(uri: String?, title: String?) {
                self.uri = uri
                self.title = title
            }
        }

        public struct Image: Sendable, Hashable, Codable {
            public var sourceUri: String?
            public var imageUri: String?
            public var title: String?
            public var domain: String?

            public init(sourceUri: String?, imageUri: String?, title: String?, domain: String?) {
                self.sourceUri = sourceUri
                self.imageUri = imageUri
                self.title = title
                self.domain = domain
            }
        }
    }

    public struct GroundingSupport: Sendable, Hashable, Codable {
        public var segment: Segment?
        public var groundingChunkIndices: [Int]?
        public var confidenceScores: [Double]?

        public init(segment: Segment?, groundingChunkIndices: [Int]?, confidenceScores: [Double]?) {
            self.segment = segment
            self.groundingChunkIndices = groundingChunkIndices
            self.confidenceScores = confidenceScores
        }

        public struct Segment: Sendable, Hashable, Codable {
            public var partIndex: Int?
            /// UTF-8 byte offsets into the part's text.
            public var startIndex: Int?
            public var endIndex: Int?
            public var text: String?

            public init(partIndex: Int?, startIndex: Int?, endIndex: Int?, text: String?) {
                self.partIndex = partIndex
                self.startIndex = startIndex
                self.endIndex = endIndex
                self.text = text
            }
        }
    }
}
