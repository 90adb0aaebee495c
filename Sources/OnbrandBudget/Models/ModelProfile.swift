import Foundation

/// What Onbrand knows about an image model before asking it: limits, shapes, features, token
/// costs and prices. Figures from `../shared/spec/gemini-api.md` §6 and §8; at run time the
/// input limit is read from `GET /v1beta/models/{model}` when reachable, and these are fallbacks.
public struct ModelProfile: Sendable, Hashable, Codable {
    public enum Provider: String, Sendable, Hashable, Codable {
        /// The native Gemini REST API.
        case gemini
        /// An OpenAI-compatible gateway: no grounding, no `imageConfig`.
        case openAICompatible = "openai"
    }

    public var id: String
    /// Other ids that mean this model (GA and preview names, marketing aliases).
    public var aliases: [String]
    public var displayName: String
    public var provider: Provider
    public var inputTokenLimit: Int
    public var outputTokenLimit: Int
    /// Sizes the model accepts in `imageConfig.imageSize` (`"512"`, `"1K"`, `"2K"`, `"4K"`); empty
    /// when it takes no size (one fixed size).
    public var imageSizes: [String]
    public var aspectRatios: [String]
    public var supportsGrounding: Bool
    public var supportsImageSearch: Bool
    /// Whether the model can answer TEXT beside IMAGE (alt text in the same call).
    public var supportsTextOutput: Bool
    /// Whether `imageConfig` reaches the model (gateways drop it).
    public var supportsImageConfig: Bool
    /// Tokens one input image costs.
    public var inputImageTokens: Int
    /// Tokens one output image costs, by size (`"default"` for models with one size).
    public var outputImageTokens: [String: Int]
    public var maximumReferenceImages: Int
    public var prices: Prices
    /// `false` for text (and vision) models, used for alt-text repair and describe passes; `nil` means true.
    public var outputsImages: Bool? = nil

    /// Whether the model makes images (every profile but the text models).
    public var makesImages: Bool { outputsImages ?? true }

    /// USD. Per-million rates for the native API; `perImage` for gateways that bill per image.
    public struct Prices: Sendable, Hashable, Codable {
        public var inputPerMillion: Double
        public var textOutputPerMillion: Double
        public var imageOutputPerMillion: Double
        /// Flat price per image where the provider bills that way (takes precedence).
        public var perImage: Double?
        /// Batch mode's share of the online price (0.5: half price).
        public var batchFactor: Double

        public init(
            inputPerMillion: Double, textOutputPerMillion: Double, imageOutputPerMillion: Double, perImage: Double? = nil,
            batchFactor: Double = 0.5
        ) {
            self.inputPerMillion = inputPerMillion
            self.textOutputPerMillion = textOutputPerMillion
            self.imageOutputPerMillion = imageOutputPerMillion
            self.perImage = perImage
            self.batchFactor = batchFactor
        }
    }

    /// Tokens for one output image of this size.
    public func outputImageTokens(size: String?) -> Int {
        if let size, let tokens = outputImageTokens[size] { return tokens }
        return outputImageTokens["default"] ?? outputImageTokens.values.max() ?? 0
    }

    /// The cost of one call, by the spec's formula: input × input rate + image tokens × image
    /// rate + other output (text and thinking) × text rate, each per million; times the batch
    /// factor in batch mode. A flat per-image price replaces the image part.
    public func cost(inputTokens: Int, imageTokens: Int, images: Int = 1, textOutputTokens: Int, batch: Bool = false) -> Double {
        var total = Double(inputTokens) * prices.inputPerMillion / 1e6 + Double(textOutputTokens) * prices.textOutputPerMillion / 1e6
        if let perImage = prices.perImage {
            total += perImage * Double(images)
        } else {
            total += Double(imageTokens) * prices.imageOutputPerMillion / 1e6
        }
        return batch ? total * prices.batchFactor : total
    }

    /// Problems with asking this model for this output, or none.
    public func problems(aspectRatio: String, imageSize: String, grounding: (web: Bool, image: Bool), wantsText: Bool) -> [String] {
        var problems: [String] = []
        if supportsImageConfig, !aspectRatios.contains(aspectRatio) {
            problems.append("\(id) does not take aspect ratio \(aspectRatio); it takes \(aspectRatios.joined(separator: " "))")
        }
        if supportsImageConfig, !imageSizes.isEmpty, !imageSizes.contains(imageSize) {
            problems.append("\(id) does not take image size \(imageSize); it takes \(imageSizes.joined(separator: ", "))")
        }
        if (grounding.web || grounding.image) && !supportsGrounding {
            problems.append("\(id) does not support Google Search grounding")
        } else if grounding.image && !supportsImageSearch {
            problems.append("\(id) grounds on web results only; image search is Nano Banana 2's (gemini-3.1-flash-image)")
        }
        if wantsText && !supportsTextOutput {
            problems.append("\(id) returns images only, no TEXT; use alt-text mode describe or fallback-only")
        }
        return problems
    }
}

/// The profiles Onbrand knows, built in or loaded from a configuration file.
public struct ModelCatalog: Sendable {
    public private(set) var profiles: [ModelProfile]

    public init(profiles: [ModelProfile] = ModelCatalog.builtIn) {
        self.profiles = profiles
    }

    /// The profile for an id or alias.
    public func profile(_ id: String) -> ModelProfile? {
        let name = id.hasPrefix("models/") ? String(id.dropFirst(7)) : id
        return profiles.first { $0.id == name || $0.aliases.contains(name) }
    }

    /// Adds or overrides profiles from a JSON file: `{"models": [ {"id": …, …} ]}`. An entry
    /// whose id (or alias) is known changes only the fields it gives; a new id must give them all.
    public mutating func apply(overridesAt path: String) throws(ModelCatalogError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelCatalogError(file: path, message: "cannot read the model configuration")
        }
        let entries: [[String: Any]]
        do {
            let root = try JSONSerialization.jsonObject(with: data)
            guard let models = (root as? [String: Any])?["models"] as? [[String: Any]] else {
                throw ModelCatalogError(file: path, message: "expected {\"models\": [ … ]}")
            }
            entries = models
        } catch let error as ModelCatalogError {
            throw error
        } catch {
            throw ModelCatalogError(file: path, message: "not valid JSON (\(error.localizedDescription))")
        }
        for (index, entry) in entries.enumerated() {
            guard let id = entry["id"] as? String else {
                throw ModelCatalogError(file: path, message: "models[\(index)] has no \"id\"")
            }
            var merged: [String: Any] = [:]
            let hasBase = profile(id) != nil
            if let base = profile(id), let encoded = try? JSONSerialization.jsonObject(with: JSONEncoder().encode(base)) as? [String: Any] {
                merged = encoded
            }
            for (key, value) in entry {
                // An alias names a known profile, which keeps its canonical id.
                if key == "id", hasBase { continue }
                if key == "prices", let prices = value as? [String: Any], var existing = merged["prices"] as? [String: Any] {
                    existing.merge(prices) { $1 }
                    merged[key] = existing
                } else {
                    merged[key] = value
                }
            }
            merged["aliases"] = merged["aliases"] ?? []
            do {
                let decoded = try JSONDecoder().decode(ModelProfile.self, from: JSONSerialization.data(withJSONObject: merged))
                let replacedID = profile(id)?.id
                profiles.removeAll { $0.id == decoded.id || $0.id == replacedID }
                profiles.append(decoded)
            } catch let DecodingError.keyNotFound(key, _) {
                throw ModelCatalogError(file: path, message: "models[\(index)] (\(id)) is new and lacks \"\(key.stringValue)\"")
            } catch {
                throw ModelCatalogError(file: path, message: "models[\(index)] (\(id)): \(error)")
            }
        }
    }
}

public struct ModelCatalogError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var message: String
    public var description: String { "\(file): error: \(message)" }
}

extension ModelCatalog {
    static let allRatios = ["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9", "1:4", "4:1", "1:8", "8:1"]
    static let tenRatios = Array(allRatios.prefix(10))

    /// Figures from `../shared/spec/gemini-api.md` §6.1–6.4 and §8 (as of 2026-09).
    public static let builtIn: [ModelProfile] = [
        ModelProfile(
            id: "gemini-3.1-flash-image-preview", aliases: ["gemini-3.1-flash-image", "nano-banana-2"],
            displayName: "Nano Banana 2", provider: .gemini, inputTokenLimit: 131_072, outputTokenLimit: 32_768,
            imageSizes: ["512", "1K", "2K", "4K"], aspectRatios: allRatios, supportsGrounding: true, supportsImageSearch: true,
            supportsTextOutput: true, supportsImageConfig: true, inputImageTokens: 1120,
            outputImageTokens: ["512": 747, "1K": 1120, "2K": 1680, "4K": 2520], maximumReferenceImages: 14,
            prices: .init(inputPerMillion: 0.50, textOutputPerMillion: 3.00, imageOutputPerMillion: 60)),
        ModelProfile(
            id: "gemini-3-pro-image-preview", aliases: ["gemini-3-pro-image", "nano-banana-pro-preview"],
            displayName: "Nano Banana Pro", provider: .gemini, inputTokenLimit: 131_072, outputTokenLimit: 32_768,
            imageSizes: ["1K", "2K", "4K"], aspectRatios: tenRatios, supportsGrounding: true, supportsImageSearch: false,
            supportsTextOutput: true, supportsImageConfig: true, inputImageTokens: 560,
            outputImageTokens: ["1K": 1120, "2K": 1120, "4K": 2000], maximumReferenceImages: 14,
            prices: .init(inputPerMillion: 2.00, textOutputPerMillion: 12.00, imageOutputPerMillion: 120)),
        ModelProfile(
            id: "gemini-2.5-flash-image", aliases: ["gemini-2.5-flash-image-preview", "nano-banana"],
            displayName: "Nano Banana", provider: .gemini, inputTokenLimit: 32_768, outputTokenLimit: 32_768,
            imageSizes: [], aspectRatios: tenRatios, supportsGrounding: false, supportsImageSearch: false,
            supportsTextOutput: true, supportsImageConfig: true, inputImageTokens: 258,
            outputImageTokens: ["default": 1290], maximumReferenceImages: 3,
            prices: .init(inputPerMillion: 0.30, textOutputPerMillion: 2.50, imageOutputPerMillion: 30)),
        ModelProfile(
            id: "gemini-3.1-flash-lite-image", aliases: [], displayName: "Nano Banana 2 Lite", provider: .gemini,
            inputTokenLimit: 131_072, outputTokenLimit: 32_768, imageSizes: ["1K"], aspectRatios: tenRatios,
            supportsGrounding: false, supportsImageSearch: false, supportsTextOutput: true, supportsImageConfig: true,
            inputImageTokens: 1120, outputImageTokens: ["1K": 1120], maximumReferenceImages: 3,
            prices: .init(inputPerMillion: 0.25, textOutputPerMillion: 1.50, imageOutputPerMillion: 30)),
        // A gateway model: image only, prompt only, billed per image. Its prompt encoder reads
        // about 512 tokens; limits are gateway-specific, so override them in a config file.
        ModelProfile(
            id: "flux-1.1-pro-ultra", aliases: [], displayName: "FLUX1.1 [pro] Ultra (gateway)", provider: .openAICompatible,
            inputTokenLimit: 512, outputTokenLimit: 0, imageSizes: [], aspectRatios: allRatios, supportsGrounding: false,
            supportsImageSearch: false, supportsTextOutput: false, supportsImageConfig: false, inputImageTokens: 0,
            outputImageTokens: ["default": 0], maximumReferenceImages: 0,
            prices: .init(inputPerMillion: 0, textOutputPerMillion: 0, imageOutputPerMillion: 0, perImage: 0.06, batchFactor: 1)),
        // A text and vision model for the cheap second calls: repairing alt text that failed its
        // checks, and describing images from models that write no text.
        ModelProfile(
            id: "gemini-2.5-flash-lite", aliases: [], displayName: "Gemini 2.5 Flash-Lite (text)", provider: .gemini,
            inputTokenLimit: 1_048_576, outputTokenLimit: 65_536, imageSizes: [], aspectRatios: [], supportsGrounding: true,
            supportsImageSearch: false, supportsTextOutput: true, supportsImageConfig: false, inputImageTokens: 258,
            outputImageTokens: ["default": 0], maximumReferenceImages: 3000,
            prices: .init(inputPerMillion: 0.10, textOutputPerMillion: 0.40, imageOutputPerMillion: 0), outputsImages: false),
    ]
}
