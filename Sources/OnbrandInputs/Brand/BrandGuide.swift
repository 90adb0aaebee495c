/// A brand's rules for images and words: what every request carries so the output is on-brand.
///
/// One model for `brand.xml` and `brand.json`. Every field is optional at load time so that a
/// sub-brand (``extends``) can override its parent field by field; ``BrandLoader`` checks what a
/// finished guide must have. Lists use `nil` for "not given here, inherit" and `[]` for "none".
public struct BrandGuide: Sendable, Hashable, Codable {
    /// A stable identifier (the `id` attribute, else the directory name).
    public var id: String
    public var version: String?
    /// The parent brand as written in the file (a directory or file, relative to this one).
    public var extends: String?
    public var name: String?
    public var tagline: String?
    public var voice: Voice?
    public var palette: Palette?
    public var typography: [Typeface]?
    public var logo: Logo?
    public var imagery: Imagery?
    public var prohibited: [String]?
    public var disclaimers: [Disclaimer]?
    public var altText: AltTextStyle?
    public var channels: [Channel]?
    public var locales: [Locale]?
    public var referenceImages: [ReferenceImage]?
    public var defaults: Defaults?
    /// The file this guide was read from; the parent's file for inherited fields is not tracked.
    public var sourceFile: String?

    public init(id: String) {
        self.id = id
    }

    public struct Voice: Sendable, Hashable, Codable {
        public var adjectives: [String]?
        public var dos: [String]?
        public var donts: [String]?
        public var samplePhrases: [String]?
        public var bannedWords: [String]?
        public var bannedClaims: [String]?

        public init() {}
    }

    public struct Palette: Sendable, Hashable, Codable {
        /// A design-tokens file (DTCG or Style Dictionary) the colours come from, resolved to an absolute path.
        public var tokensFile: String?
        /// Only tokens under this dotted path are imported (`color.brand`).
        public var tokenPrefix: String?
        public var colors: [BrandColor]?
        /// ΔE2000 above which a dominant colour of a generated image is off-palette (3.0 when not given).
        public var tolerance: Double?
        /// The highest acceptable mean ΔE2000 over a run's images (2.0 when not given).
        public var batchTolerance: Double?

        public init() {}

        public static let defaultTolerance = 3.0
        public static let defaultBatchTolerance = 2.0
    }

    public struct BrandColor: Sendable, Hashable, Codable {
        public var name: String
        /// `#RRGGBB` or `#RRGGBBAA`, upper case.
        public var hex: String
        public var role: String?
        /// Share of the image the colour should cover, in percent.
        public var usage: Double?
        /// The design token it came from, if any.
        public var token: String?

        public init(name: String, hex: String, role: String? = nil, usage: Double? = nil, token: String? = nil) {
            self.name = name
            self.hex = hex
            self.role = role
            self.usage = usage
            self.token = token
        }
    }

    public struct Typeface: Sendable, Hashable, Codable {
        public var role: String
        public var family: String
        public var weight: String?
        public var fallback: String?

        public init(role: String, family: String, weight: String? = nil, fallback: String? = nil) {
            self.role = role
            self.family = family
            self.weight = weight
            self.fallback = fallback
        }
    }

    public struct Logo: Sendable, Hashable, Codable {
        /// Absolute path of the logo image.
        public var file: String?
        public var rules: [String]?

        public init() {}
    }

    public struct Imagery: Sendable, Hashable, Codable {
        public var lighting: String?
        public var background: String?
        public var composition: String?
        public var props: String?
        public var people: String?

        public init() {}
    }

    public struct Disclaimer: Sendable, Hashable, Codable {
        public var text: String
        /// Only for this channel (`social`), or every channel when `nil`.
        public var channel: String?
        /// Only for this locale, or every locale when `nil`.
        public var locale: String?

        public init(text: String, channel: String? = nil, locale: String? = nil) {
            self.text = text
            self.channel = channel
            self.locale = locale
        }
    }

    public struct AltTextStyle: Sendable, Hashable, Codable {
        public var tone: String?
        /// At most this many characters; 125 when not given (IPTC's guidance).
        public var maxLength: Int?
        public var language: String?
        /// Write the model's words about the image as a caption (`dc:description` in the image's XMP).
        /// Off by default; the alt text never goes there.
        public var caption: Bool?

        public init() {}

        public static let defaultMaxLength = 125
    }

    /// Overrides for one channel: e-commerce wants a plain white background, social a lifestyle scene.
    public struct Channel: Sendable, Hashable, Codable {
        public var id: String
        public var background: String?
        public var notes: [String]?

        public init(id: String) {
            self.id = id
        }
    }

    /// Rules for one locale, on top of the brand's.
    public struct Locale: Sendable, Hashable, Codable {
        /// BCP 47 code: `de-DE`.
        public var code: String
        public var name: String?
        public var notes: [String]?
        public var bannedWords: [String]?
        public var disclaimers: [String]?
        public var altText: AltTextStyle?

        public init(code: String) {
            self.code = code
        }
    }

    public struct ReferenceImage: Sendable, Hashable, Codable {
        /// Absolute path of the image.
        public var file: String
        public var description: String

        public init(file: String, description: String) {
            self.file = file
            self.description = description
        }
    }

    /// What `onbrand run <brand>` uses when given nothing else (absolute paths).
    public struct Defaults: Sendable, Hashable, Codable {
        public var catalog: String?
        public var templates: [String]?

        public init() {}
    }
}

extension BrandGuide {
    /// The colours, or none.
    public var colors: [BrandColor] { palette?.colors ?? [] }

    /// The override for a channel, if the brand has one.
    public func channel(_ id: String) -> Channel? { channels?.first { $0.id == id } }

    /// The rules for a locale, if the brand has them.
    public func locale(_ code: String) -> Locale? { locales?.first { $0.code.lowercased() == code.lowercased() } }

    /// The locale codes the brand declares, or its alt-text language alone.
    public var localeCodes: [String] {
        if let locales, !locales.isEmpty { return locales.map(\.code) }
        return [altText?.language ?? "en-US"]
    }
}
