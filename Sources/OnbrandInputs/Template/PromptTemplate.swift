/// A prompt template: what to ask the model for one product in one locale, and in what shape.
public struct PromptTemplate: Sendable, Hashable {
    public var id: String
    /// Bumped by the author when the template's meaning changes; part of every unit's fingerprint.
    public var version: String
    public var description: String?
    /// The model to use; the run's default when `nil`.
    public var model: String?
    /// The Merchant Center feed column the image is for: `image_link`, `additional_image_link`, `lifestyle_image_link`.
    public var role: String?
    /// The brand channel whose overrides apply (`ecommerce`, `social`, `banner`).
    public var channel: String?
    public var output: Output
    public var grounding: Grounding
    public var sections: [Section]
    public var prompt: TemplateText
    public var altText: AltText
    /// The file it was read from.
    public var sourceFile: String

    public struct Output: Sendable, Hashable {
        public var responseModalities: [Modality]
        public var aspectRatio: AspectRatio
        public var imageSize: ImageSize

        public init(responseModalities: [Modality] = [.text, .image], aspectRatio: AspectRatio = .square, imageSize: ImageSize = .oneK) {
            self.responseModalities = responseModalities
            self.aspectRatio = aspectRatio
            self.imageSize = imageSize
        }
    }

    public enum Modality: String, Sendable, Hashable, CaseIterable, Codable {
        case text = "TEXT"
        case image = "IMAGE"
    }

    /// Google Search grounding: web results, image results, or both.
    public struct Grounding: Sendable, Hashable {
        public var web: Bool
        public var image: Bool
        public var isEnabled: Bool { web || image }

        public init(web: Bool = false, image: Bool = false) {
            self.web = web
            self.image = image
        }
    }

    /// A piece of context with a priority, for the token-budget packer.
    public struct Section: Sendable, Hashable {
        public var id: String
        public var priority: Priority
        public var kind: Kind
        /// Mustache text (empty for image kinds).
        public var text: TemplateText?

        public init(id: String, priority: Priority, kind: Kind = .text, text: TemplateText? = nil) {
            self.id = id
            self.priority = priority
            self.kind = kind
            self.text = text
        }
    }

    /// Required sections must fit or the unit fails; the others are added high to low while they fit.
    public enum Priority: String, Sendable, Hashable, CaseIterable, Comparable {
        case required, high, medium, low

        /// 0 for required, then 1 high, 2 medium, 3 low: the order sections are packed in.
        public var rank: Int {
            switch self {
            case .required: 0
            case .high: 1
            case .medium: 2
            case .low: 3
            }
        }
        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
    }

    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case text
        case referenceImages = "reference-images"
        case productImages = "product-images"
        case logo
    }

    public struct AltText: Sendable, Hashable {
        /// `inline`: the model writes it in the same call; `describe`: a second vision call;
        /// `fallback-only`: built from product data.
        public var mode: Mode
        public var instruction: TemplateText?
        public var fallback: TemplateText?

        public enum Mode: String, Sendable, Hashable, CaseIterable {
            case inline, describe
            case fallbackOnly = "fallback-only"
        }

        public init(mode: Mode = .inline, instruction: TemplateText? = nil, fallback: TemplateText? = nil) {
            self.mode = mode
            self.instruction = instruction
            self.fallback = fallback
        }
    }
}

/// Mustache text with the place it starts in its file, so render errors can name the exact line.
public struct TemplateText: Sendable, Hashable {
    public var source: String
    /// Line and column in the template file where `source` begins.
    public var line: Int
    public var column: Int

    public init(_ source: String, line: Int = 1, column: Int = 1) {
        self.source = source
        self.line = line
        self.column = column
    }
}

/// The 14 aspect ratios the Gemini image models accept.
public enum AspectRatio: String, Sendable, Hashable, CaseIterable, Codable {
    case square = "1:1"
    case portrait2x3 = "2:3", landscape3x2 = "3:2", portrait3x4 = "3:4", landscape4x3 = "4:3"
    case portrait4x5 = "4:5", landscape5x4 = "5:4", portrait9x16 = "9:16", landscape16x9 = "16:9"
    case ultrawide21x9 = "21:9", tall1x4 = "1:4", wide4x1 = "4:1", tall1x8 = "1:8", wide8x1 = "8:1"

    /// Width over height.
    public var value: Double {
        let parts = rawValue.split(separator: ":").compactMap { Double($0) }
        return parts[0] / parts[1]
    }
}

/// Output size tiers: the longer side is about 512, 1024, 2048 or 4096 pixels.
public enum ImageSize: String, Sendable, Hashable, CaseIterable, Codable {
    case half = "512"
    case oneK = "1K"
    case twoK = "2K"
    case fourK = "4K"
}
