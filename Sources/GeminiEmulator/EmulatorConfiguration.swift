public import OnbrandBudget

/// How the emulator behaves: which models it serves, how slow it is, what goes wrong and how often.
public struct EmulatorConfiguration: Sendable {
    /// Models served, with the limits, sizes and token costs of their profiles.
    public var models: ModelCatalog
    /// When set, only this key is accepted; otherwise any non-empty key is.
    public var apiKey: String?
    public var latency: Latency
    public var faults: FaultPlan
    /// Makes latency and faults repeatable: the same seed and requests give the same answers.
    public var seed: UInt64
    /// How long uploaded files live (the API's is 48 hours).
    public var fileLifetime: Duration
    /// How long a batch stays pending before it runs (the API's target is under 24 hours).
    public var batchDelay: Duration
    /// Per-pixel noise in generated images (0: flat drawings, a few KB; 6: photograph-sized files).
    public var imageGrain: Int
    /// How many text tokens the emulated tokenizer counts per token of Onbrand's estimate, in
    /// `countTokens`, usage and the input-limit check: above 1 it plays a tokenizer that counts
    /// more than the estimate said, as real text sometimes does.
    public var textTokenFactor: Double = 1

    public init(
        models: ModelCatalog = ModelCatalog(), apiKey: String? = nil, latency: Latency = .none, faults: FaultPlan = .none,
        seed: UInt64 = 42, fileLifetime: Duration = .seconds(48 * 3600), batchDelay: Duration = .zero, imageGrain: Int = 0
    ) {
        self.imageGrain = imageGrain
        self.models = models
        self.apiKey = apiKey
        self.latency = latency
        self.faults = faults
        self.seed = seed
        self.fileLifetime = fileLifetime
        self.batchDelay = batchDelay
    }

    /// Time taken per `generateContent` call.
    public enum Latency: Sendable, Hashable {
        case none
        case fixed(milliseconds: Int)
        /// Uniform between the two bounds.
        case uniform(minimumMilliseconds: Int, maximumMilliseconds: Int)

        /// `--latency 20000`, `--latency 500-2000`.
        public init?(argument: String) {
            let parts = argument.split(separator: "-").map { Int($0) }
            switch parts.count {
            case 1: guard let value = parts[0], value >= 0 else { return nil }
                self = value == 0 ? .none : .fixed(milliseconds: value)
            case 2: guard let low = parts[0], let high = parts[1], low >= 0, high >= low else { return nil }
                self = .uniform(minimumMilliseconds: low, maximumMilliseconds: high)
            default: return nil
            }
        }
    }
}

/// What the emulator can do wrong, as real deployments do (spec §3 and §10).
public enum Fault: String, Sendable, Hashable, CaseIterable, Codable {
    /// 429 RESOURCE_EXHAUSTED with QuotaFailure, Help and RetryInfo details.
    case rateLimited = "429"
    /// 500 INTERNAL.
    case internalError = "500"
    /// 503 UNAVAILABLE, "The model is overloaded."
    case unavailable = "503"
    /// 504 DEADLINE_EXCEEDED.
    case deadlineExceeded = "504"
    /// STOP with text and no image.
    case textOnly = "text-only"
    /// A candidate stopped for IMAGE_SAFETY, with a finish message and no parts.
    case imageSafety = "image-safety"
    /// NO_IMAGE.
    case noImage = "no-image"
    /// No candidates; promptFeedback.blockReason SAFETY.
    case promptBlocked = "prompt-blocked"
    /// An error body wrapped in a one-element array, as streams and the OpenAI surface send.
    case wrappedError = "wrapped-error"
    /// No answer for ten minutes: the client's deadline must fire.
    case timeout
    /// A 200 whose JSON body stops halfway, as a broken proxy sends.
    case truncatedBody = "truncated"
    /// The connection closes in the middle of the answer, as a load balancer's reset does.
    case droppedConnection = "dropped"
}

/// Which faults happen: a share of calls drawn at random (repeatably), or a fixed script.
public struct FaultPlan: Sendable, Hashable {
    /// Share of `generateContent` calls that fail, 0 to 1.
    public var rate: Double
    /// The faults drawn from when one happens.
    public var kinds: [Fault]
    /// Faults for the first calls in order (`nil`: answer normally); then `rate` applies.
    public var script: [Fault?]

    public static let none = FaultPlan(rate: 0, kinds: [], script: [])

    public init(rate: Double, kinds: [Fault] = Fault.allCases, script: [Fault?] = []) {
        self.rate = rate
        self.kinds = kinds
        self.script = script
    }

    /// `--faults 0.2`, `--faults 0.2:429,503`, `--faults script:429,ok,image-safety`.
    public init?(argument: String) {
        if argument.hasPrefix("script:") {
            var script: [Fault?] = []
            for name in argument.dropFirst(7).split(separator: ",") {
                if name == "ok" {
                    script.append(nil)
                } else if let fault = Fault(rawValue: String(name)) {
                    script.append(fault)
                } else {
                    return nil
                }
            }
            self.init(rate: 0, kinds: [], script: script)
            return
        }
        let parts = argument.split(separator: ":", maxSplits: 1)
        guard let rate = Double(parts[0]), (0...1).contains(rate) else { return nil }
        var kinds = Fault.allCases
        if parts.count == 2 {
            kinds = []
            for name in parts[1].split(separator: ",") {
                guard let fault = Fault(rawValue: String(name)) else { return nil }
                kinds.append(fault)
            }
        }
        self.init(rate: rate, kinds: kinds)
    }
}
