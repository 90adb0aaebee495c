/// Batch mode resources (spec §4): a `GenerateContentBatch` is created with
/// `POST models/{model}:batchGenerateContent` and followed as a long-running `Operation`.
public struct BatchOperation: Sendable, Hashable, Codable {
    /// `batches/{id}`.
    public var name: String
    public var metadata: GenerateContentBatch?
    /// `true` only in a terminal state; absent while pending or running.
    public var done: Bool?
    public var response: BatchOutput?
    /// Set on FAILED or CANCELLED.
    public var error: APIErrorEnvelope.Status?

    public var isDone: Bool { done ?? false }

    public init(name: String, metadata: GenerateContentBatch? = nil, done: Bool? = nil, response: BatchOutput? = nil) {
        self.name = name
        self.metadata = metadata
        self.done = done
        self.response = response
    }
}

public struct GenerateContentBatch: Sendable, Hashable, Codable {
    public var name: String?
    public var model: String?
    public var displayName: String?
    public var inputConfig: InputConfig?
    public var output: BatchOutput?
    public var createTime: String?
    public var updateTime: String?
    public var endTime: String?
    public var batchStats: BatchStats?
    public var state: BatchState?
    /// int64 as a string.
    public var priority: String?

    public init(displayName: String, inputConfig: InputConfig, priority: String? = nil) {
        self.displayName = displayName
        self.inputConfig = inputConfig
        self.priority = priority
    }

    public struct InputConfig: Sendable, Hashable, Codable {
        /// A JSONL file uploaded with the Files API: `{"key": …, "request": {…}}` a line.
        public var fileName: String?
        public var requests: InlinedRequests?

        public init(fileName: String) {
            self.fileName = fileName
        }

        public init(requests: [InlinedRequest]) {
            self.requests = InlinedRequests(requests: requests)
        }
    }

    /// The wrapper is nested twice on the wire: `requests.requests[]`.
    public struct InlinedRequests: Sendable, Hashable, Codable {
        public var requests: [InlinedRequest]
    }

    public struct InlinedRequest: Sendable, Hashable, Codable {
        public var request: GenerateContentRequest
        /// Free-form; Onbrand keeps the unit's key in `key`.
        public var metadata: [String: String]?

        public init(request: GenerateContentRequest, key: String) {
            self.request = request
            self.metadata = ["key": key]
        }
    }
}

/// Where a batch's results are: a generated file, or inline (twice nested).
public struct BatchOutput: Sendable, Hashable, Codable {
    public var responsesFile: String?
    public var inlinedResponses: InlinedResponses?

    public init(responsesFile: String? = nil, inlinedResponses: InlinedResponses? = nil) {
        self.responsesFile = responsesFile
        self.inlinedResponses = inlinedResponses
    }

    public struct InlinedResponses: Sendable, Hashable, Codable {
        public var inlinedResponses: [InlinedResponse]?

        public init(inlinedResponses: [InlinedResponse]?) {
            self.inlinedResponses = inlinedResponses
        }
    }

    public struct InlinedResponse: Sendable, Hashable, Codable {
        public var response: GenerateContentResponse?
        public var error: APIErrorEnvelope.Status?
        public var metadata: [String: String]?

        public init(response: GenerateContentResponse? = nil, error: APIErrorEnvelope.Status? = nil, metadata: [String: String]? = nil) {
            self.response = response
            self.error = error
            self.metadata = metadata
        }
    }
}

/// One line of a batch responses file.
public struct BatchResponseLine: Sendable, Hashable, Codable {
    public var key: String?
    public var response: GenerateContentResponse?
    public var error: APIErrorEnvelope.Status?

    public init(key: String?, response: GenerateContentResponse?, error: APIErrorEnvelope.Status?) {
        self.key = key
        self.response = response
        self.error = error
    }
}

/// Counts, sent as int64 strings; zero counts are omitted.
public struct BatchStats: Sendable, Hashable, Codable {
    public var requestCount: String?
    public var successfulRequestCount: String?
    public var failedRequestCount: String?
    public var pendingRequestCount: String?

    public init(
        requestCount: String? = nil, successfulRequestCount: String? = nil, failedRequestCount: String? = nil, pendingRequestCount: String? = nil
    ) {
        self.requestCount = requestCount
        self.successfulRequestCount = successfulRequestCount
        self.failedRequestCount = failedRequestCount
        self.pendingRequestCount = pendingRequestCount
    }

    public var requests: Int { Int(requestCount ?? "0") ?? 0 }
    public var succeeded: Int { Int(successfulRequestCount ?? "0") ?? 0 }
    public var failed: Int { Int(failedRequestCount ?? "0") ?? 0 }
    public var pending: Int { Int(pendingRequestCount ?? "0") ?? 0 }
}

/// `BATCH_STATE_*` on the wire; the SDK's `JOB_STATE_*` spellings are accepted too.
public enum BatchState: WireEnum {
    case unspecified, pending, running, succeeded, failed, cancelled, expired
    case unknown(String)

    public static let known: [String: BatchState] = [
        "BATCH_STATE_UNSPECIFIED": .unspecified, "BATCH_STATE_PENDING": .pending, "BATCH_STATE_RUNNING": .running,
        "BATCH_STATE_SUCCEEDED": .succeeded, "BATCH_STATE_FAILED": .failed, "BATCH_STATE_CANCELLED": .cancelled,
        "BATCH_STATE_EXPIRED": .expired, "JOB_STATE_UNSPECIFIED": .unspecified, "JOB_STATE_PENDING": .pending,
        "JOB_STATE_QUEUED": .pending, "JOB_STATE_RUNNING": .running, "JOB_STATE_SUCCEEDED": .succeeded,
        "JOB_STATE_FAILED": .failed, "JOB_STATE_CANCELLED": .cancelled, "JOB_STATE_EXPIRED": .expired,
    ]

    public var rawValue: String {
        switch self {
        case .unspecified: "BATCH_STATE_UNSPECIFIED"
        case .pending: "BATCH_STATE_PENDING"
        case .running: "BATCH_STATE_RUNNING"
        case .succeeded: "BATCH_STATE_SUCCEEDED"
        case .failed: "BATCH_STATE_FAILED"
        case .cancelled: "BATCH_STATE_CANCELLED"
        case .expired: "BATCH_STATE_EXPIRED"
        case .unknown(let value): value
        }
    }

    public var isTerminal: Bool { [.succeeded, .failed, .cancelled, .expired].contains(self) }
}

/// A Files API resource (spec §5.2). `sizeBytes` is an int64 string.
public struct FileResource: Sendable, Hashable, Codable {
    /// `files/{id}`.
    public var name: String
    public var displayName: String?
    public var mimeType: String?
    public var sizeBytes: String?
    public var createTime: String?
    public var updateTime: String?
    public var expirationTime: String?
    public var sha256Hash: String?
    /// Use as `fileData.fileUri` in prompts.
    public var uri: String?
    public var downloadUri: String?
    public var state: FileState?
    public var source: String?
    public var error: APIErrorEnvelope.Status?

    public var size: Int { Int(sizeBytes ?? "0") ?? 0 }

    public init(name: String) {
        self.name = name
    }
}

public enum FileState: WireEnum {
    case unspecified, processing, active, failed
    case unknown(String)

    public static let known: [String: FileState] = [
        "STATE_UNSPECIFIED": .unspecified, "PROCESSING": .processing, "ACTIVE": .active, "FAILED": .failed,
    ]

    public var rawValue: String {
        if case .unknown(let value) = self { return value }
        return Self.known.first { $0.value == self }!.key
    }
}
