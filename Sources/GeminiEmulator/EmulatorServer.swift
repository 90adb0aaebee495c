import Foundation
import Hummingbird
import Logging

/// A running emulator on loopback: its address, its engine (and request log), and a way to stop it.
public final class RunningEmulator: Sendable {
    public let port: Int
    public let engine: EmulatorEngine
    private let task: Task<Void, any Error>

    /// `http://127.0.0.1:PORT`, the base URL for GeminiKit or the google-genai SDK.
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    public var log: RequestLog { engine.log }

    init(port: Int, engine: EmulatorEngine, task: Task<Void, any Error>) {
        self.port = port
        self.engine = engine
        self.task = task
    }

    /// Stops the server and waits until it has closed.
    public func stop() async {
        task.cancel()
        _ = await task.result
    }
}

/// Thrown by a response body to close the connection mid-answer (the `dropped` fault).
struct DroppedConnection: Error {}

/// Serves ``EmulatorEngine`` over HTTP/1.1 with Hummingbird.
public enum EmulatorServer {
    /// The largest request body accepted (the API's inline limit is 20 MB; allow headroom).
    public static let maximumRequestSize = 64 << 20

    /// Starts an emulator in this process, on loopback. Port 0 picks a free port.
    public static func start(configuration: EmulatorConfiguration = .init(), port: Int = 0) async throws -> RunningEmulator {
        let engine = EmulatorEngine(configuration: configuration)
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = application(engine: engine, port: port) { continuation.yield($0) }
        let task = Task { try await app.run() }
        var iterator = stream.makeAsyncIterator()
        guard let bound = await iterator.next() else {
            task.cancel()
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "the emulator did not start"])
        }
        return RunningEmulator(port: bound, engine: engine, task: task)
    }

    /// Runs an emulator until the process is interrupted (for `onbrand emulator`).
    public static func run(configuration: EmulatorConfiguration, port: Int, onRunning: @escaping @Sendable (Int) -> Void) async throws {
        let app = application(engine: EmulatorEngine(configuration: configuration), port: port, onRunning: onRunning)
        try await app.runService()
    }

    private static func application(engine: EmulatorEngine, port: Int, onRunning: @escaping @Sendable (Int) -> Void) -> some ApplicationProtocol {
        let router = Router()
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            var request = request
            let buffer = try await request.collectBody(upTo: maximumRequestSize)
            var query: [String: String] = [:]
            for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
            var requestHeaders: [String: String] = [:]
            for field in request.headers { requestHeaders[field.name.canonicalName] = field.value }
            if let authority = request.head.authority { requestHeaders["host"] = authority }
            let answer = await engine.handle(
                method: request.method.rawValue, path: request.uri.path, query: query, headers: requestHeaders, body: Data(buffer.readableBytesView))
            var headers = HTTPFields()
            headers[.contentType] = answer.contentType
            for (name, value) in answer.headers.sorted(by: { $0.key < $1.key }) { headers[.init(name)!] = value }
            if answer.fault == .droppedConnection {
                // Announce the whole body, send half, then fail the writer: the connection closes mid-answer.
                let half = ByteBuffer(bytes: answer.body.prefix(answer.body.count / 2))
                return Response(
                    status: HTTPResponse.Status(code: answer.status), headers: headers,
                    body: ResponseBody(contentLength: answer.body.count) { writer in
                        try await writer.write(half)
                        throw DroppedConnection()
                    })
            }
            return Response(
                status: HTTPResponse.Status(code: answer.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
        }
        router.on("**", method: .post, use: handler)
        router.on("**", method: .get, use: handler)
        router.on("**", method: .delete, use: handler)
        var logger = Logger(label: "onbrand.emulator")
        // Stopping an in-process server cancels its channels, which Hummingbird reports at `error`.
        logger.logLevel = .critical
        return Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "onbrand-emulator"),
            onServerRunning: { channel in onRunning(channel.localAddress?.port ?? port) }, logger: logger)
    }
}
