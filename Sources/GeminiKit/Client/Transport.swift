public import Foundation

/// One HTTP request, as GeminiKit sends it.
public struct HTTPRequestMessage: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: Data?

    public init(method: String, url: String, headers: [(name: String, value: String)] = [], body: Data? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// One HTTP response, body collected.
public struct HTTPResponseMessage: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: Data

    public init(status: Int, headers: [(name: String, value: String)] = [], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// What failed below HTTP.
public enum TransportError: Error, Sendable, Hashable {
    /// The deadline passed before the answer was complete.
    case timedOut
    /// The connection could not be made or broke.
    case connection(String)
    /// The answer was larger than allowed.
    case responseTooLarge(limit: Int)
}

/// Sends requests. The real one is async-http-client; tests use a closure.
public protocol Transport: Sendable {
    func send(_ request: HTTPRequestMessage, timeout: Duration, maximumResponseSize: Int) async throws -> HTTPResponseMessage
}

/// A transport answered by a closure, for tests.
public struct ClosureTransport: Transport {
    private let handler: @Sendable (HTTPRequestMessage) async throws -> HTTPResponseMessage

    public init(_ handler: @escaping @Sendable (HTTPRequestMessage) async throws -> HTTPResponseMessage) {
        self.handler = handler
    }

    public func send(_ request: HTTPRequestMessage, timeout: Duration, maximumResponseSize: Int) async throws -> HTTPResponseMessage {
        try await handler(request)
    }
}
