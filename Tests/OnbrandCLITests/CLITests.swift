import Foundation
import OnbrandTestSupport
import Testing

@Suite struct CLITests {
    @Test func validatesTheBundledExampleBrand() throws {
        let result = try CommandRunner.run(["validate", "brands/northwind"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.hasPrefix("OK: 0 errors"))
        #expect(result.standardOutput.contains("products"))
    }

    @Test func reportsProblemsAsFileLineColumnAndExitsOne() throws {
        try TestFiles.withTemporaryDirectory { directory in
            try TestFiles.write(
                "<?xml version=\"1.0\"?>\n<brand id=\"x\">\n  <name>X</name>\n  <palette><color name=\"A\" hex=\"blue\"/></palette>\n</brand>\n",
                to: "x/brand.xml", in: directory)
            let result = try CommandRunner.run(["validate", "x"], in: directory)
            #expect(result.status == 1)
            #expect(result.standardError.contains("x/brand.xml:4:12: error: colour \"A\" has hex \"blue\""), "\(result.standardError)")
            #expect(result.standardOutput.hasPrefix("FAILED: "))
        }
    }

    @Test func inspectPrintsJSONWithProductCount() throws {
        let result = try CommandRunner.run(["inspect", "--catalog", "brands/northwind/catalog.xml", "--json"])
        #expect(result.status == 0, "\(result.standardError)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        #expect((object["products"] as? Int ?? 0) >= 10)
        #expect((object["fields"] as? [String: Int])?["id"] == object["products"] as? Int)
    }

    @Test func inspectOfAMalformedCatalogFailsWithItsPlace() throws {
        try TestFiles.withTemporaryDirectory { directory in
            try TestFiles.write("<rss xmlns:g=\"http://base.google.com/ns/1.0\"><channel>\n<item><g:id>1</g:id>", to: "cut.xml", in: directory)
            let result = try CommandRunner.run(["inspect", "--catalog", "cut.xml"], in: directory)
            #expect(result.status == 1)
            #expect(result.standardError.contains("cut.xml:2:"), "\(result.standardError)")
            #expect(result.standardError.contains("truncated"))
        }
    }

    @Test func unknownSubcommandIsAUsageError() throws {
        let result = try CommandRunner.run(["paint"])
        #expect(result.status == 64)
    }
}

@Suite struct TokensCommandTests {
    @Test func printsCountTabFileForEachFile() throws {
        try TestFiles.withTemporaryDirectory { directory in
            let a = try TestFiles.write("Hello, world! This is a test of the Gemma tokenizer.", to: "a.txt", in: directory)
            let b = try TestFiles.write("東京は日本の首都です。", to: "b.txt", in: directory)
            let estimated = try CommandRunner.run(["tokens", a, b])
            #expect(estimated.status == 0, "\(estimated.standardError)")
            let lines = estimated.standardOutput.split(separator: "\n")
            #expect(lines.count == 2)
            #expect(lines[0].hasSuffix("\t\(a)") && Int(lines[0].split(separator: "\t")[0]) ?? 0 > 0)
            guard let shared = TestFiles.shared else {
                print("skipping exact mode: ../shared is absent")
                return
            }
            let model = shared.appendingPathComponent("data/tokenizers/gemma3_tokenizer.model").path
            let exact = try CommandRunner.run(["tokens", "--tokenizer", model, a, b])
            #expect(exact.standardOutput == "13\t\(a)\n6\t\(b)\n")
        }
    }

    @Test func missingFileFailsButCountsTheRest() throws {
        try TestFiles.withTemporaryDirectory { directory in
            let a = try TestFiles.write("one two", to: "a.txt", in: directory)
            let result = try CommandRunner.run(["tokens", a, directory.appendingPathComponent("nope.txt").path])
            #expect(result.status == 1)
            #expect(result.standardOutput.hasSuffix("\t\(a)\n"))
            #expect(result.standardError.contains("nope.txt: error: cannot read the file"))
        }
    }
}

@Suite struct PlanCommandTests {
    @Test func plansEveryUnitAndWritesTheFiles() throws {
        try TestFiles.withTemporaryDirectory { directory in
            let brand = TestFiles.packageRoot.appendingPathComponent("brands/northwind").path
            let result = try CommandRunner.run(["plan", brand, "--out", directory.path, "--json"])
            #expect(result.status == 0, "\(result.standardError)")
            let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
            #expect(summary["units"] as? Int == 20 * 2 * 3, "20 products × 2 templates × 3 locales")
            #expect((summary["costUSD"] as? Double ?? 0) > 0 && (summary["batchCostUSD"] as? Double ?? 0) < (summary["costUSD"] as? Double ?? 0))
            let plan = directory.appendingPathComponent("northwind/plan")
            let requests = try String(contentsOf: plan.appendingPathComponent("requests.jsonl"), encoding: .utf8)
            #expect(requests.split(separator: "\n").count == 120)
            #expect(FileManager.default.fileExists(atPath: plan.appendingPathComponent("budget.jsonl").path))
            // A second plan of the same inputs is byte-identical.
            _ = try CommandRunner.run(["plan", brand, "--out", directory.path, "--json"])
            #expect(try String(contentsOf: plan.appendingPathComponent("requests.jsonl"), encoding: .utf8) == requests)
        }
    }

    /// A plan that cannot be written (here: a 1 MB file-size limit, as a full disk would) ends with
    /// a clear error while batches are still in flight, not a crash.
    @Test func aPlanThatCannotBeWrittenEndsWithAClearError() throws {
        try TestFiles.withTemporaryDirectory { directory in
            let products = (0..<700).map { index in
                #"{"id":"P-\#(index)","title":"Trail jacket \#(index)","description":"A light jacket for long days outside, number \#(index)."}"#
            }
            let catalog = try TestFiles.write(products.joined(separator: "\n") + "\n", to: "catalog.jsonl", in: directory)
            let executable = try CommandRunner.executable().path
            let brand = TestFiles.packageRoot.appendingPathComponent("brands/northwind").path
            let script = "trap '' XFSZ; ulimit -f 1024; exec \"$0\" plan \"$1\" --catalog \"$2\" --out \"$3\""
            let result = try CommandRunner.runTool("/bin/bash", ["-c", script, executable, brand, catalog, directory.appendingPathComponent("out").path])
            #expect(result.status == 1, "\(result.output)")
            #expect(result.output.contains("the plan could not be written"), "\(result.output)")
            #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("out/northwind/plan/requests.jsonl").path), "no half plan under the final name")
        }
    }

    @Test func aTinyBudgetFailsUnitsWithAReason() throws {
        try TestFiles.withTemporaryDirectory { directory in
            let brand = TestFiles.packageRoot.appendingPathComponent("brands/northwind").path
            let result = try CommandRunner.run(["plan", brand, "--out", directory.path, "--budget", "500", "--locale", "en-US"])
            #expect(result.status == 1)
            #expect(result.standardOutput.contains("failed ×"), "\(result.standardOutput)")
            #expect(result.standardOutput.contains("the required sections"))
        }
    }
}

@Suite(.serialized) struct RunCommandTests {
    static let brand = TestFiles.packageRoot.appendingPathComponent("brands/northwind").path

    /// `onbrand emulator` in its own process, and the URL it announced.
    static func startEmulator(latency: Int) throws -> (Process, String) {
        let emulator = Process()
        emulator.executableURL = try CommandRunner.executable()
        emulator.arguments = ["emulator", "--port", "0", "--latency", String(latency)]
        let announcements = Pipe()
        emulator.standardError = announcements
        try emulator.run()
        var banner = Data()
        while !String(decoding: banner, as: UTF8.self).contains("\n") {
            let chunk = announcements.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            banner += chunk
        }
        guard let url = String(decoding: banner, as: UTF8.self).split(separator: " ").first(where: { $0.hasPrefix("http://") }) else {
            emulator.terminate()
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "the emulator did not announce its URL"])
        }
        return (emulator, String(url))
    }

    /// The README's main command, minus the build: proof mode, with no key in the environment.
    @Test func proofModeRunsWithoutAKeyAndSaysSo() throws {
        try TestFiles.withTemporaryDirectory { directory in
            var environment = ProcessInfo.processInfo.environment
            environment["GEMINI_API_KEY"] = nil
            environment["GOOGLE_API_KEY"] = nil
            let result = try CommandRunner.run(["run", Self.brand, "--out", directory.path, "--limit", "2"], environment: environment)
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardError.contains("PROOF MODE"))
            #expect(result.standardOutput.contains("12 succeeded") && result.standardOutput.contains("[emulator"))
            #expect(result.standardOutput.contains("images: \(directory.path)/northwind/"))
        }
    }

    @Test func backendGeminiWithoutAKeyIsAnError() throws {
        var environment = ProcessInfo.processInfo.environment
        environment["GEMINI_API_KEY"] = nil
        environment["GOOGLE_API_KEY"] = nil
        let result = try CommandRunner.run(["run", Self.brand, "--backend", "gemini", "--dry-run"], environment: environment)
        #expect(result.status == 2)
        #expect(result.standardError.contains("GEMINI_API_KEY"))
    }

    @Test func ctrlCFinishesWhatIsInFlightAndWritesTheManifest() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("onbrand-int-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (emulator, url) = try Self.startEmulator(latency: 200)
        defer { emulator.terminate() }
        var environment = ProcessInfo.processInfo.environment
        environment["GEMINI_API_KEY"] = "test-key"
        let run = Process()
        run.executableURL = try CommandRunner.executable()
        run.arguments = ["run", Self.brand, "--out", directory.path, "--limit", "6", "--backend", "gemini", "--base-url", url, "--concurrency", "2"]
        run.environment = environment
        run.standardOutput = FileHandle.nullDevice
        run.standardError = FileHandle.nullDevice
        try run.run()
        let folder = directory.appendingPathComponent("northwind/catalog-packshot")
        for _ in 0..<200 {
            if ((try? FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".png") }.count) ?? 0) >= 2 { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        run.interrupt()
        run.waitUntilExit()
        #expect(run.terminationStatus == 130)
        let manifest = try String(contentsOf: directory.appendingPathComponent("northwind/manifest.jsonl"), encoding: .utf8)
        #expect(manifest.split(separator: "\n").count == 36, "every unit has a line, interrupted ones included")
        #expect(manifest.contains("\"failureKind\":\"interrupted\""))
        #expect(!manifest.contains("\"state\":\"running\""))
    }

    @Test func killedMidRunResumesWithoutLosingOrRepeatingWork() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("onbrand-kill-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        // A slow emulator in its own process, so the run can be killed mid-flight.
        let (emulator, url) = try Self.startEmulator(latency: 150)
        defer { emulator.terminate() }
        var environment = ProcessInfo.processInfo.environment
        environment["GEMINI_API_KEY"] = "test-key"
        let arguments = ["run", Self.brand, "--out", directory.path, "--limit", "4", "--backend", "gemini", "--base-url", url, "--concurrency", "2"]

        let run = Process()
        run.executableURL = try CommandRunner.executable()
        run.arguments = arguments
        run.environment = environment
        run.standardOutput = FileHandle.nullDevice
        run.standardError = FileHandle.nullDevice
        try run.run()
        let folder = directory.appendingPathComponent("northwind/catalog-packshot")
        var imagesAtKill = 0
        for _ in 0..<200 {
            imagesAtKill = (try? FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".png") }.count) ?? 0
            if imagesAtKill >= 4 { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        kill(run.processIdentifier, SIGKILL)
        run.waitUntilExit()

        let rerun = try CommandRunner.run(arguments + ["--json"], environment: environment)
        #expect(rerun.status == 0, "\(rerun.standardError)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(rerun.standardOutput.utf8)) as? [String: Any])
        #expect(summary["units"] as? Int == 24)
        // An image on disk is finished only once the journal says so; at most the two units in flight
        // (--concurrency 2) can be between their image and their journal line when the kill lands.
        #expect((summary["skipped"] as? Int ?? 0) >= max(imagesAtKill - 2, 1), "what finished before the kill is not sent again")
        #expect((summary["skipped"] as? Int ?? 0) + (summary["succeeded"] as? Int ?? 0) == 24)
        var pngs = 0
        let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)
        while let file = enumerator?.nextObject() as? URL {
            #expect(!file.lastPathComponent.hasSuffix(".partial"), "no half-written file survives")
            if file.pathExtension == "png" { pngs += 1 }
        }
        #expect(pngs == 24)
    }
}
