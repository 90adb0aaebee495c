import Crypto
import Foundation
import GeminiKit

/// The Files API (spec §5): resumable uploads, get, list, delete, download; files expire.
actor FileStore {
    struct Stored {
        var resource: FileResource
        var data: Data
        var expires: ContinuousClock.Instant
    }

    struct Session {
        var version: String
        var name: String?
        var displayName: String?
        var mimeType: String
        var expectedSize: Int?
        var data = Data()
    }

    private var files: [String: Stored] = [:]
    private var order: [String] = []
    private var sessions: [String: Session] = [:]
    private var counter: UInt64 = 0

    /// A fresh identifier, 12 lower-case letters and digits, repeatable for a seed.
    func nextID(seed: UInt64) -> String {
        counter += 1
        var random = SplitMix64(seed: seed ^ counter &* 0xA24B_AED4_963E_E407)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<12).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
    }

    func file(_ id: String) -> Stored? {
        guard let stored = files[id] else { return nil }
        if stored.expires <= .now {
            remove(id)
            return nil
        }
        return stored
    }

    func contains(_ id: String) -> Bool { file(id) != nil || sessions.values.contains { $0.name == id } }

    func store(_ stored: Stored, id: String) {
        if files[id] == nil { order.append(id) }
        files[id] = stored
    }

    @discardableResult func remove(_ id: String) -> Bool {
        order.removeAll { $0 == id }
        return files.removeValue(forKey: id) != nil
    }

    /// Files in creation order, expired ones dropped.
    func list() -> [Stored] { order.compactMap { file($0) } }

    func openSession(_ session: Session) -> String {
        counter += 1
        let id = "emu-\(counter)-\(UInt32(truncatingIfNeeded: counter &* 0x9E37_79B9))"
        sessions[id] = session
        return id
    }

    func session(_ id: String) -> Session? { sessions[id] }
    func update(_ id: String, _ session: Session?) { sessions[id] = session }
}

extension EmulatorEngine {
    static let publicHost = "https://generativelanguage.googleapis.com"

    /// `POST /upload/{v}/files` (start) and `POST <upload URL>` (bytes), as the SDK speaks it.
    func upload(method: String, path: String, query: [String: String], headers: [String: String], body: Data) async -> EmulatorResponse {
        let components = path.split(separator: "/").map(String.init)
        guard method == "POST", components.count == 3, components[0] == "upload", components[2] == "files" else {
            return error(404, "NOT_FOUND", "The requested URL \(path) was not found on this server.")
        }
        let version = components[1]
        if let uploadID = query["upload_id"] {
            return await uploadBytes(uploadID, headers: headers, body: body)
        }
        if let failure = authenticate(headers["x-goog-api-key"] ?? query["key"]) { return failure }
        guard headers["x-goog-upload-protocol"]?.lowercased() == "resumable", headers["x-goog-upload-command"]?.lowercased() == "start" else {
            return error(
                400, "INVALID_ARGUMENT",
                "Only resumable uploads are served: send X-Goog-Upload-Protocol: resumable and X-Goog-Upload-Command: start.")
        }
        var metadata: [String: Any] = [:]
        if !body.isEmpty {
            guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
                return error(400, "INVALID_ARGUMENT", "Invalid JSON payload received. Expected {\"file\": {…}}.")
            }
            metadata = object["file"] as? [String: Any] ?? [:]
        }
        var name = metadata["name"] as? String
        if let given = name {
            let id = given.hasPrefix("files/") ? String(given.dropFirst(6)) : given
            guard Self.isValidFileID(id) else {
                return error(
                    400, "INVALID_ARGUMENT",
                    "* CreateFileRequest.file.name: The file ID \"\(id)\" is invalid: use at most 40 lower-case letters, digits or dashes, not starting or ending with a dash.\n")
            }
            guard await !files.contains(id) else {
                return error(409, "ALREADY_EXISTS", "A file named files/\(id) already exists.")
            }
            name = id
        }
        let mimeType = headers["x-goog-upload-header-content-type"] ?? (metadata["mimeType"] ?? metadata["mime_type"]) as? String
        guard let mimeType, !mimeType.isEmpty else {
            return error(400, "INVALID_ARGUMENT", "* Missing the file's MIME type: send X-Goog-Upload-Header-Content-Type.\n")
        }
        let session = FileStore.Session(
            version: version, name: name, displayName: (metadata["displayName"] ?? metadata["display_name"]) as? String, mimeType: mimeType,
            expectedSize: headers["x-goog-upload-header-content-length"].flatMap { Int($0) })
        let uploadID = await files.openSession(session)
        let host = headers["host"].map { "http://\($0)" } ?? Self.publicHost
        var answer = EmulatorResponse(status: 200, contentType: "text/plain; charset=utf-8", body: Data(), fault: nil)
        answer.headers = [
            "X-Goog-Upload-URL": "\(host)/upload/\(version)/files?upload_id=\(uploadID)&upload_protocol=resumable",
            "X-Goog-Upload-Status": "active", "X-Goog-Upload-Chunk-Granularity": "8388608",
        ]
        return answer
    }

    private func uploadBytes(_ uploadID: String, headers: [String: String], body: Data) async -> EmulatorResponse {
        guard var session = await files.session(uploadID) else {
            return error(404, "NOT_FOUND", "The upload session \(uploadID) does not exist or has finished.")
        }
        let command = (headers["x-goog-upload-command"] ?? "").lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard command.contains("upload") || command.contains("finalize") else {
            return error(400, "INVALID_ARGUMENT", "Send X-Goog-Upload-Command: upload, or upload, finalize.")
        }
        let offset = headers["x-goog-upload-offset"].flatMap { Int($0) } ?? session.data.count
        guard offset == session.data.count else {
            return error(
                400, "INVALID_ARGUMENT", "X-Goog-Upload-Offset is \(offset), but \(session.data.count) bytes have been received.")
        }
        session.data += body
        guard command.contains("finalize") else {
            await files.update(uploadID, session)
            var answer = EmulatorResponse(status: 200, contentType: "text/plain; charset=utf-8", body: Data(), fault: nil)
            answer.headers = ["X-Goog-Upload-Status": "active", "X-Goog-Upload-Size-Received": String(session.data.count)]
            return answer
        }
        await files.update(uploadID, nil)
        if let expected = session.expectedSize, expected != session.data.count {
            return error(400, "INVALID_ARGUMENT", "The upload ended at \(session.data.count) bytes, but \(expected) were announced.")
        }
        var id = session.name ?? ""
        if id.isEmpty { id = await files.nextID(seed: configuration.seed) }
        let resource = fileResource(
            id: id, version: session.version, displayName: session.displayName, mimeType: session.mimeType, data: session.data,
            source: "UPLOADED")
        await files.store(.init(resource: resource, data: session.data, expires: .now + configuration.fileLifetime), id: id)
        var answer = json(200, ["file": Self.object(resource)])
        answer.headers = ["X-Goog-Upload-Status": "final"]
        return answer
    }

    func fileResource(id: String, version: String, displayName: String?, mimeType: String, data: Data, source: String) -> FileResource {
        let now = Date()
        let lifetime = Double(configuration.fileLifetime.components.seconds)
        var resource = FileResource(name: "files/\(id)")
        resource.displayName = displayName
        resource.mimeType = mimeType
        resource.sizeBytes = String(data.count)
        resource.createTime = Self.timestamp(now)
        resource.updateTime = Self.timestamp(now)
        resource.expirationTime = Self.timestamp(now.addingTimeInterval(lifetime))
        resource.sha256Hash = Data(SHA256.hash(data: data)).base64EncodedString()
        resource.uri = "\(Self.publicHost)/\(version)/files/\(id)"
        if source == "GENERATED" { resource.downloadUri = "\(Self.publicHost)/download/\(version)/files/\(id):download?alt=media" }
        resource.state = .active
        resource.source = source
        return resource
    }

    /// `GET /{v}/files`, `GET|DELETE /{v}/files/{id}`, `GET /{v}/files/{id}:download`.
    func filesRoute(method: String, components: [String], query: [String: String]) async -> EmulatorResponse {
        if components.count == 2 {
            guard method == "GET" else { return error(405, "METHOD_NOT_ALLOWED", "Upload files through /upload/\(components[0])/files.") }
            let pageSize = min(max(Int(query["pageSize"] ?? "10") ?? 10, 1), 100)
            let start = min(max(Int(query["pageToken"] ?? "0") ?? 0, 0), 1 << 40)
            let all = await files.list()
            let page = all.dropFirst(start).prefix(pageSize).map(\.resource)
            var answer: [String: Any] = ["files": page.map(Self.object)]
            if start < all.count - pageSize { answer["nextPageToken"] = String(start + pageSize) }
            return json(200, answer)
        }
        let tail = components[2...].joined(separator: "/")
        if tail.hasSuffix(":download") {
            return await download(path: "/" + components.prefix(2).joined(separator: "/") + "/" + tail, apiKey: "checked")
        }
        guard let stored = await files.file(tail) else { return fileNotFound(tail) }
        switch method {
        case "GET": return json(200, stored.resource)
        case "DELETE":
            await files.remove(tail)
            return json(200, [String: Any]())
        default: return error(405, "METHOD_NOT_ALLOWED", "Use GET or DELETE on a file.")
        }
    }

    /// The bytes of a generated file (batch results); `path` is `/{v}/files/{id}:download`.
    func download(path: String, apiKey: String?) async -> EmulatorResponse {
        if let failure = authenticate(apiKey) { return failure }
        let components = path.split(separator: "/").map(String.init)
        guard components.count == 3, components[1] == "files", components[2].hasSuffix(":download") else {
            return error(404, "NOT_FOUND", "The requested URL \(path) was not found on this server.")
        }
        let id = String(components[2].dropLast(":download".count))
        guard let stored = await files.file(id) else { return fileNotFound(id) }
        guard stored.resource.source == "GENERATED" else {
            return error(400, "INVALID_ARGUMENT", "Only generated files (such as batch results) can be downloaded; files/\(id) was uploaded.")
        }
        return EmulatorResponse(status: 200, contentType: stored.resource.mimeType ?? "application/octet-stream", body: stored.data, fault: nil)
    }

    private func fileNotFound(_ id: String) -> EmulatorResponse {
        error(403, "PERMISSION_DENIED", "You do not have permission to access the File \(id) or it may not exist.")
    }

    /// A request naming a Files API URI that does not exist (or has expired) is refused, as the API does.
    func missingFile(in request: GenerateContentRequest) async -> EmulatorResponse? {
        let uris = (request.contents.flatMap(\.parts) + (request.systemInstruction?.parts ?? [])).compactMap(\.fileData?.fileUri)
        for uri in uris {
            guard let id = Self.fileID(inURI: uri) else { continue }
            if await files.file(id) == nil { return fileNotFound(id) }
        }
        return nil
    }

    /// `https://generativelanguage.googleapis.com/v1beta/files/abc` (or the same path on any host) → `abc`.
    static func fileID(inURI uri: String) -> String? {
        guard let url = URL(string: uri), let host = url.host else { return nil }
        let components = url.path.split(separator: "/").map(String.init)
        guard components.count == 3, components[1] == "files",
            host == "generativelanguage.googleapis.com" || host == "127.0.0.1" || host == "localhost"
        else { return nil }
        return components[2]
    }

    static func isValidFileID(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 40 && !id.hasPrefix("-") && !id.hasSuffix("-")
            && id.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    static func object(_ value: some Encodable) -> Any {
        (try? JSONSerialization.jsonObject(with: WireCoding.encoder().encode(value))) ?? [String: Any]()
    }
}
