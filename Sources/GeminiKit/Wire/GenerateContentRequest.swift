/// The body of `POST /v1beta/models/{model}:generateContent`, as the REST reference spells it
/// (lowerCamelCase out; see `../shared/spec/gemini-api.md` §1.2).
///
/// Optional fields that are `nil` are left out of the JSON, never sent as `null`.
public struct GenerateContentRequest: Sendable, Hashable, Codable {
    public var contents: [Content]
    public var systemInstruction: Content?
    public var tools: [Tool]?
    public var generationConfig: GenerationConfig?

    public init(contents: [Content], systemInstruction: Content? = nil, tools: [Tool]? = nil, generationConfig: GenerationConfig? = nil) {
        self.contents = contents
        self.systemInstruction = systemInstruction
        self.tools = tools
        self.generationConfig = generationConfig
    }
}

/// One turn of the conversation.
public struct Content: Sendable, Hashable, Codable {
    /// `user` or `model`.
    public var role: String?
    public var parts: [Part]

    public init(role: String? = "user", parts: [Part]) {
        self.role = role
        self.parts = parts
    }
}

/// One part of a turn: text, inline bytes, or a file reference.
public struct Part: Sendable, Hashable, Codable {
    public var text: String?
    public var inlineData: Blob?
    public var fileData: FileData?
    /// In responses: thought summaries and interim "thought images", to be skipped.
    public var thought: Bool?
    /// Opaque, base64; sent back unchanged in multi-turn requests.
    public var thoughtSignature: String?

    public init(text: String) {
        self.text = text
    }

    public init(inlineData: Blob) {
        self.inlineData = inlineData
    }

    public init(fileData: FileData) {
        self.fileData = fileData
    }

    public struct Blob: Sendable, Hashable, Codable {
        public var mimeType: String
        /// Standard base64 with padding.
        public var data: String

        public init(mimeType: String, data: String) {
            self.mimeType = mimeType
            self.data = data
        }
    }

    public struct FileData: Sendable, Hashable, Codable {
        public var mimeType: String?
        public var fileUri: String

        public init(mimeType: String?, fileUri: String) {
            self.mimeType = mimeType
            self.fileUri = fileUri
        }
    }
}

/// A tool the model may use; Onbrand uses Google Search grounding only.
public struct Tool: Sendable, Hashable, Codable {
    public var googleSearch: GoogleSearch?

    public init(googleSearch: GoogleSearch) {
        self.googleSearch = googleSearch
    }

    public struct GoogleSearch: Sendable, Hashable, Codable {
        /// Unset: web search only. Image search is Nano Banana 2 only.
        public var searchTypes: SearchTypes?

        public init(searchTypes: SearchTypes? = nil) {
            self.searchTypes = searchTypes
        }
    }

    public struct SearchTypes: Sendable, Hashable, Codable {
        public var webSearch: Empty?
        public var imageSearch: Empty?

        public init(webSearch: Bool, imageSearch: Bool) {
            self.webSearch = webSearch ? Empty() : nil
            self.imageSearch = imageSearch ? Empty() : nil
        }
    }

    /// `{}` on the wire.
    public struct Empty: Sendable, Hashable, Codable {
        public init() {}
    }
}

/// Generation settings (`generationConfig`).
public struct GenerationConfig: Sendable, Hashable, Codable {
    /// `["TEXT", "IMAGE"]` for image models that also write text.
    public var responseModalities: [String]?
    public var imageConfig: ImageConfig?
    public var maxOutputTokens: Int?
    public var candidateCount: Int?
    public var seed: Int?
    public var temperature: Double?

    public init(
        responseModalities: [String]? = nil, imageConfig: ImageConfig? = nil, maxOutputTokens: Int? = nil,
        candidateCount: Int? = nil, seed: Int? = nil, temperature: Double? = nil
    ) {
        self.responseModalities = responseModalities
        self.imageConfig = imageConfig
        self.maxOutputTokens = maxOutputTokens
        self.candidateCount = candidateCount
        self.seed = seed
        self.temperature = temperature
    }

    public struct ImageConfig: Sendable, Hashable, Codable {
        /// One of the 14 ratios, e.g. `"16:9"`.
        public var aspectRatio: String?
        /// `"512"`, `"1K"`, `"2K"`, `"4K"` (upper-case K); not for `gemini-2.5-flash-image`.
        public var imageSize: String?

        public init(aspectRatio: String?, imageSize: String?) {
            self.aspectRatio = aspectRatio
            self.imageSize = imageSize
        }
    }
}
