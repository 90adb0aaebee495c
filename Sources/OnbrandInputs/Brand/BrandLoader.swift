import Foundation
import OnbrandXML

/// Loads a brand guide from a brand directory or file: parses it (XML or JSON), follows
/// `extends` to its parents, fills the palette from a design-tokens file, and checks the result.
public enum BrandLoader {
    /// How many parents an `extends` chain may have.
    public static let maximumInheritanceDepth = 8

    /// What loading found: the guide (when it is usable) and every diagnostic, warnings included.
    public struct Result: Sendable {
        public var guide: BrandGuide?
        public var diagnostics: [Diagnostic]
        /// The brand file that was read (`brand.xml` or `brand.json`).
        public var file: String
    }

    /// The brand file for a directory or file path.
    public static func brandFile(for path: String) throws(DiagnosticError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DiagnosticError(
                .error("brand not found", at: SourceLocation(file: path), hint: "give a brand directory (with brand.xml or brand.json) or a brand file"))
        }
        guard isDirectory.boolValue else { return path }
        for name in ["brand.xml", "brand.json"] {
            let candidate = (path as NSString).appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        throw DiagnosticError(
            .error("the directory has no brand.xml or brand.json", at: SourceLocation(file: path), hint: "see brands/README.md"))
    }

    /// Loads and checks a brand, collecting every problem instead of stopping at the first.
    public static func load(_ path: String) -> Result {
        let file: String
        do {
            file = try brandFile(for: path)
        } catch {
            return Result(guide: nil, diagnostics: error.diagnostics, file: path)
        }
        var diagnostics: [Diagnostic] = []
        var rootLocation = SourceLocation(file: file, line: 1, column: 1)
        guard var guide = loadChain(file, visited: [], diagnostics: &diagnostics, rootLocation: &rootLocation) else {
            return Result(guide: nil, diagnostics: diagnostics, file: file)
        }
        resolvePalette(&guide, diagnostics: &diagnostics, at: rootLocation)
        check(guide, diagnostics: &diagnostics, at: rootLocation)
        let usable = !diagnostics.contains { $0.severity == .error }
        return Result(guide: usable ? guide : nil, diagnostics: diagnostics, file: file)
    }

    /// Loads a brand, throwing every diagnostic when any is an error.
    public static func loadOrThrow(_ path: String) throws(DiagnosticError) -> BrandGuide {
        let result = load(path)
        guard let guide = result.guide else { throw DiagnosticError(result.diagnostics) }
        return guide
    }

    /// Parses one file and merges it over its parents.
    /// - Parameter rootLocation: Set to where the file's root element (or object) starts, for
    ///   problems with the brand as a whole.
    private static func loadChain(
        _ file: String, visited: [String], diagnostics: inout [Diagnostic], rootLocation: inout SourceLocation
    ) -> BrandGuide? {
        let directory = (file as NSString).deletingLastPathComponent
        let defaultID = file.hasSuffix("/brand.xml") || file.hasSuffix("/brand.json")
            ? (directory as NSString).lastPathComponent
            : ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        var guide: BrandGuide
        if file.lowercased().hasSuffix(".json") {
            let root: JSONNode
            do {
                root = try JSONParser.parseFile(file)
            } catch {
                diagnostics += error.diagnostics
                return nil
            }
            rootLocation = SourceLocation(file: file, line: root.position.line, column: root.position.column)
            var reader = BrandJSONReader(file: file, directory: directory)
            guide = reader.read(root, defaultID: defaultID)
            diagnostics += reader.diagnostics.all
        } else {
            let root: XMLElement
            do {
                root = try XMLDocument.parse(contentsOf: file)
            } catch {
                diagnostics.append(Diagnostic(error))
                return nil
            }
            rootLocation = SourceLocation(file: file, line: root.line, column: root.column)
            var reader = BrandXMLReader(file: file, directory: directory)
            guide = reader.read(root, defaultID: defaultID)
            diagnostics += reader.diagnostics.all
        }
        guard let extends = guide.extends else { return guide }
        let location = rootLocation
        guard visited.count < maximumInheritanceDepth else {
            diagnostics.append(
                .error("the extends chain is deeper than \(maximumInheritanceDepth) brands", at: location, hint: "flatten the hierarchy"))
            return nil
        }
        let parentPath = BrandPaths.resolve(extends, against: directory)
        let parentFile: String
        do {
            parentFile = try brandFile(for: parentPath)
        } catch {
            diagnostics.append(
                .error(
                    "extends \"\(extends)\": no parent brand at \(parentPath)", at: location,
                    hint: "extends is a brand directory or file, relative to this file"))
            return nil
        }
        let canonical = URL(fileURLWithPath: parentFile).resolvingSymlinksInPath().path
        if visited.contains(canonical) || canonical == URL(fileURLWithPath: file).resolvingSymlinksInPath().path {
            diagnostics.append(
                .error("extends \"\(extends)\" makes a cycle", at: location, hint: "a brand cannot inherit from itself or its children"))
            return nil
        }
        let visitedNow = visited + [URL(fileURLWithPath: file).resolvingSymlinksInPath().path]
        var parentLocation = SourceLocation(file: parentFile)
        guard let parent = loadChain(parentFile, visited: visitedNow, diagnostics: &diagnostics, rootLocation: &parentLocation)
        else { return nil }
        return guide.inheriting(from: parent)
    }

    /// Fills colours named by token, or imports every colour token under the prefix.
    private static func resolvePalette(_ guide: inout BrandGuide, diagnostics: inout [Diagnostic], at location: SourceLocation) {
        guard var palette = guide.palette, let tokensFile = palette.tokensFile else { return }
        let tokens: DesignTokens
        do {
            let (loaded, problems) = try DesignTokens.load(contentsOf: tokensFile)
            tokens = loaded
            diagnostics += problems
        } catch {
            diagnostics += error.diagnostics
            return
        }
        let prefix = palette.tokenPrefix.map { $0.hasSuffix(".") ? $0 : $0 + "." }
        if let colors = palette.colors, !colors.isEmpty {
            palette.colors = colors.compactMap { color in
                guard let tokenPath = color.token else { return color }
                let candidates = [tokenPath] + (prefix.map { [$0 + tokenPath] } ?? [])
                guard let token = candidates.lazy.compactMap(tokens.color(at:)).first else {
                    diagnostics.append(
                        .error(
                            "colour \"\(color.name)\" names token \"\(tokenPath)\", which \(tokensFile) does not define as a colour",
                            at: location, hint: "check the token path; colour tokens there include "
                                + tokens.colors.prefix(5).map(\.path).joined(separator: ", ")))
                    return nil
                }
                var resolved = color
                resolved.hex = token.hex
                return resolved
            }
        } else {
            palette.colors = tokens.colors.compactMap { token in
                guard let prefix else { return BrandGuide.BrandColor(name: token.path, hex: token.hex, token: token.path) }
                guard token.path.hasPrefix(prefix) else { return nil }
                return BrandGuide.BrandColor(name: String(token.path.dropFirst(prefix.count)), hex: token.hex, token: token.path)
            }
            if palette.colors?.isEmpty ?? true {
                diagnostics.append(
                    .error(
                        "\(tokensFile) has no colour tokens\(prefix.map { " under \($0.dropLast())" } ?? "")", at: location,
                        hint: "check token-prefix, or list the colours with hex values"))
            }
        }
        guide.palette = palette
    }

    /// What a finished (merged) guide must have.
    private static func check(_ guide: BrandGuide, diagnostics: inout [Diagnostic], at location: SourceLocation) {
        if guide.name == nil {
            diagnostics.append(.error("the brand has no name", at: location, hint: "add <name>…</name> (or \"name\" in JSON)"))
        }
        if guide.palette == nil {
            diagnostics.append(
                .warning("the brand has no palette", at: location, hint: "add colours so images stay on-palette"))
        }
        let usage = guide.colors.compactMap(\.usage).reduce(0, +)
        if usage > 100.5 {
            diagnostics.append(
                .warning("palette usage shares add up to \(usage)%", at: location, hint: "shares are percentages of the image; keep the total at 100 or less"))
        }
        var seen: Set<String> = []
        for locale in guide.locales ?? [] where !seen.insert(locale.code.lowercased()).inserted {
            diagnostics.append(.error("locale \(locale.code) is listed twice", at: location, hint: "merge the two entries"))
        }
    }
}
