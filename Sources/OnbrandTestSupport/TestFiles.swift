public import Foundation

/// Files and directories for tests: the package root, `../shared`, and temporary directories
/// that are always deleted.
public enum TestFiles {
    /// The package's root directory (found from this source file's path).
    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    /// `../shared` beside the package, or `nil` when it is absent (outside users' clones):
    /// tests that need it skip with a message.
    public static let shared: URL? = {
        let url = packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue ? url : nil
    }()

    /// Files in a `../shared` subdirectory, sorted; empty when `../shared` is absent.
    public static func sharedFiles(_ subdirectory: String, extensions: Set<String>) -> [URL] {
        guard let directory = shared?.appendingPathComponent(subdirectory),
            let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path)
        else { return [] }
        return names.sorted().map { directory.appendingPathComponent($0) }.filter { extensions.contains($0.pathExtension) }
    }

    /// Runs `body` with a new empty directory, deleted afterwards whatever happens.
    public static func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("onbrand-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: url) }
        return try body(url)
    }

    /// Writes `text` to `name` inside `directory` and returns its path.
    @discardableResult
    public static func write(_ text: String, to name: String, in directory: URL) throws -> String {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    /// Writes raw bytes (for invalid UTF-8 fixtures).
    @discardableResult
    public static func write(bytes: [UInt8], to name: String, in directory: URL) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }
}
