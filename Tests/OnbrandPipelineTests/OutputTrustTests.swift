import Foundation
import GeminiEmulator
import GeminiKit
import OnbrandImage
import OnbrandPipeline
import OnbrandTestSupport
import Testing

/// What a run leaves for reviewers: checked and repaired alt text, XMP in every image, image
/// checks, feeds and the gallery. Against the emulator on loopback.
@Suite(.serialized) struct OutputTrustTests {
    static func sidecars(_ folder: URL) throws -> [[String: Any]] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted().map {
            try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent($0))) as! [String: Any]
        }
    }

    /// Japanese alt text naming a long title fails its checks (too long for the brand's 80 characters, or
    /// mostly Latin letters); one repair call
    /// (a text model, with the image and the findings) fixes it, and every step is in the sidecar.
    @Test func failingAltTextIsRepairedOnce() async throws {
        try await TestFiles.withTemporaryDirectoryAsync { directory in
            var options = RunnerTests.options(out: directory, limit: 10)
            options.templates = [TestFiles.packageRoot.appendingPathComponent("templates/lifestyle-trends.xml").path]
            options.locales = ["ja-JP"]
            let summary = try await Runner(options: options).run()
            #expect(summary.succeeded == summary.units && summary.units > 0)
            let sidecars = try Self.sidecars(directory.appendingPathComponent("northwind/lifestyle-trends"))
            let repaired = sidecars.filter { $0["altTextSource"] as? String == "repair" }
            #expect(!repaired.isEmpty, "some titles are long enough to need a repair")
            for sidecar in repaired {
                let attempts = try #require(sidecar["altTextAttempts"] as? [[String: Any]])
                #expect(attempts.map { $0["source"] as? String } == ["model", "repair"])
                let modelLint = try #require(attempts[0]["lint"] as? [[String: Any]])
                #expect(modelLint.contains { $0["isError"] as? Bool == true })
                #expect((sidecar["altTextLint"] as? [[String: Any]])?.contains { $0["isError"] as? Bool == true } == false)
            }
            #expect(summary.flagged == 0)
        }
    }

    /// When the repair call brings nothing back, that is recorded, and the template's fallback is used.
    @Test func aFailedRepairFallsBackToTheTemplate() async throws {
        try await TestFiles.withTemporaryDirectoryAsync { directory in
            var options = RunnerTests.options(out: directory, limit: 1)
            options.templates = [TestFiles.packageRoot.appendingPathComponent("templates/lifestyle-trends.xml").path]
            options.locales = ["ja-JP"]
            options.only = ["NW-LAMP-400"]
            options.concurrency = 1
            // The image call succeeds; the repair call is answered with NO_IMAGE and no text.
            options.emulatorConfiguration = EmulatorConfiguration(faults: FaultPlan(argument: "script:ok,no-image")!)
            let summary = try await Runner(options: options).run()
            #expect(summary.succeeded == 1)
            let sidecar = try #require(try Self.sidecars(directory.appendingPathComponent("northwind/lifestyle-trends")).first)
            let attempts = try #require(sidecar["altTextAttempts"] as? [[String: Any]])
            #expect(attempts.map { $0["source"] as? String } == ["model", "repair", "fallback"])
            #expect(attempts[1]["error"] as? String == "the answer had no ALT line", "the empty repair is on record")
            #expect(sidecar["altTextSource"] as? String != "repair")
        }
    }

    /// An image-only gateway model gets its alt text from a describe call to a text model.
    @Test func imageOnlyModelsAreDescribed() async throws {
        try await TestFiles.withTemporaryDirectoryAsync { directory in
            let template = """
                {"id": "gateway-describe", "version": "1", "model": "flux-1.1-pro-ultra",
                 "output": {"responseModalities": ["IMAGE"], "aspectRatio": "1:1", "imageSize": "1K"},
                 "sections": [{"id": "facts", "priority": "required", "text": "Product: {{product.title}}."}],
                 "prompt": "A clean packshot of {{product.title}} on white.",
                 "altText": {"mode": "describe", "instruction": "Write alt text in the language of the {{locale.code}} locale, at most {{brand.altText.maxLength}} characters.",
                             "fallback": "{{product.title}}"}}
                """
            var options = RunnerTests.options(out: directory, limit: 2)
            options.templates = [try TestFiles.write(template, to: "describe.json", in: directory)]
            options.locales = ["de-DE"]
            let summary = try await Runner(options: options).run()
            #expect(summary.succeeded == 2, "\(summary.failures)")
            let sidecars = try Self.sidecars(directory.appendingPathComponent("northwind/gateway-describe"))
            #expect(sidecars.allSatisfy { $0["altTextSource"] as? String == "describe" })
            #expect(sidecars.allSatisfy { ($0["altText"] as? String)?.hasSuffix("vor schlichtem Hintergrund") == true })
        }
    }

    /// Brand images live 48 hours in the Files API; a run that outlasts them uploads them again
    /// when a call finds them gone, and every unit still succeeds.
    @Test func expiredBrandImagesAreUploadedAgain() async throws {
        // Files outlive three calls and a re-upload by well over a second: with less slack, a loaded
        // machine (the whole suite in parallel beside a profiler) let a re-uploaded file expire again
        // before its call, and the unit failed.
        let emulator = try await EmulatorServer.start(
            configuration: .init(latency: .fixed(milliseconds: 500), fileLifetime: .milliseconds(3000)))
        defer { Task { await emulator.stop() } }
        try await TestFiles.withTemporaryDirectoryAsync { directory in
            var options = RunnerTests.options(out: directory, limit: 8)
            options.templates = [TestFiles.packageRoot.appendingPathComponent("templates/catalog-packshot.xml").path]
            options.locales = ["en-US"]
            options.concurrency = 1
            options.backend = .gemini
            options.apiKey = "test-key"
            options.baseURL = emulator.baseURL
            let summary = try await Runner(options: options).run()
            #expect(summary.succeeded == 8 && summary.failed == 0, "\(summary.failures)")
            let entries = await emulator.log.entries
            #expect(entries.contains { $0.status == 403 }, "a call found the files expired")
            let uploads = entries.filter { $0.path.hasPrefix("/upload/") && $0.status == 200 }.count
            #expect(uploads >= 8, "two images, uploaded (start and bytes) at the start and again after expiry: \(uploads)")
        }
    }

    /// A brand that asks for captions gets the model's words about the image as `dc:description`;
    /// the alt text never goes there, and brands that do not ask get none.
    @Test func captionsOnlyWhenTheBrandAsks() async throws {
        try await TestFiles.withTemporaryDirectoryAsync { directory in
            let northwind = TestFiles.packageRoot.appendingPathComponent("brands/northwind").path
            let brandFolder = directory.appendingPathComponent("captioned")
            try FileManager.default.createDirectory(at: brandFolder, withIntermediateDirectories: true)
            _ = try TestFiles.write(
                """
                <brand id="captioned" version="1" extends="\(northwind)">
                  <alt-text caption="true"/>
                </brand>
                """, to: "brand.xml", in: brandFolder)
            var options = RunnerTests.options(out: directory.appendingPathComponent("out"), limit: 1)
            options.brandPath = brandFolder.path
            options.catalog = northwind + "/catalog.xml"
            options.templates = [TestFiles.packageRoot.appendingPathComponent("templates/catalog-packshot.xml").path]
            options.locales = ["en-US"]
            let summary = try await Runner(options: options).run()
            #expect(summary.succeeded == 1, "\(summary.failures)")
            let folder = directory.appendingPathComponent("out/captioned/catalog-packshot")
            let sidecar = try #require(try Self.sidecars(folder).first)
            let image = try Data(contentsOf: folder.appendingPathComponent(try #require((sidecar["image"] as? [String: Any])?["file"] as? String)))
            let metadata = try XMPPacket.parse(try #require(ImageContainer.info(of: image).xmp))
            #expect(metadata.caption.map(\.text) == ["Here is the image."], "the emulator's words beside the ALT line")
            #expect(metadata.caption.first?.text != sidecar["altText"] as? String)
        }
    }

    /// Every image carries XMP with its alt text; the sidecar says what was checked; the feeds
    /// and the gallery are written, and the gallery's images all have their alt text.
    @Test func imagesCarryMetadataAndTheRunIsReviewable() async throws {
        try await TestFiles.withTemporaryDirectoryAsync { directory in
            var options = RunnerTests.options(out: directory, limit: 2)
            options.locales = ["en-US", "de-DE"]
            options.imageBaseURL = "https://cdn.example.com/nw"
            let summary = try await Runner(options: options).run()
            #expect(summary.failed == 0 && summary.succeeded == 8)
            let root = directory.appendingPathComponent("northwind")
            let folder = root.appendingPathComponent("catalog-packshot")
            for sidecar in try Self.sidecars(folder) {
                let image = try Data(contentsOf: folder.appendingPathComponent(try #require((sidecar["image"] as? [String: Any])?["file"] as? String)))
                let metadata = try XMPPacket.parse(try #require(ImageContainer.info(of: image).xmp))
                #expect(metadata.altText.first?.text == sidecar["altText"] as? String)
                #expect(metadata.altText.first?.language == sidecar["locale"] as? String)
                #expect(metadata.digitalSourceType == ImageMetadata.trainedAlgorithmicMedia)
                #expect(metadata.caption.isEmpty, "Northwind does not ask for captions")
                let verification = try #require(sidecar["verification"] as? [String: Any])
                #expect(verification["ratioMatches"] as? Bool == true && verification["sizeMatches"] as? Bool == true)
                #expect((verification["merchantProblems"] as? [String])?.isEmpty == true)
                #expect((verification["palette"] as? [String: Any])?["flagged"] as? Bool == false)
            }
            let tsv = try String(contentsOf: root.appendingPathComponent("feeds/merchant-supplemental.en-US.tsv"), encoding: .utf8)
            let lines = tsv.split(separator: "\n")
            #expect(lines.first == "id\timage_link\tadditional_image_link\tlifestyle_image_link")
            #expect(lines.dropFirst().allSatisfy { $0.contains("\thttps://cdn.example.com/nw/catalog-packshot/") })
            let csv = try String(contentsOf: root.appendingPathComponent("feeds/shopify-image-alt.de-DE.csv"), encoding: .utf8)
            #expect(csv.hasPrefix("Handle,Image Src,Image Position,Image Alt Text\n") && csv.contains("vor schlichtem Hintergrund"))
            let rss = try String(contentsOf: root.appendingPathComponent("feeds/merchant-supplemental.en-US.xml"), encoding: .utf8)
            #expect(rss.contains("<g:image_link>https://cdn.example.com/nw/catalog-packshot/"))

            // Alt text repeated across one product's images in one language is flagged for review.
            let review = try RunReview(root: root, brandName: "Northwind", batchTolerance: 2)
            #expect(review.flaggedCount == 0 && review.duplicateAltTexts.isEmpty)
            let lifestyle = root.appendingPathComponent("lifestyle-trends")
            let packshotFile = try #require(try FileManager.default.contentsOfDirectory(atPath: folder.path).first { $0.hasSuffix(".en-US.json") })
            var copy = try JSONSerialization.jsonObject(with: Data(contentsOf: lifestyle.appendingPathComponent(packshotFile))) as! [String: Any]
            copy["altText"] = try Self.sidecars(folder).first { $0["locale"] as? String == "en-US" && ($0["image"] as? [String: Any])?["file"] as? String == packshotFile.replacingOccurrences(of: ".json", with: ".png") }?["altText"]
            try JSONSerialization.data(withJSONObject: copy).write(to: lifestyle.appendingPathComponent(packshotFile))
            let repeated = try RunReview(root: root, brandName: "Northwind", batchTolerance: 2)
            #expect(repeated.duplicateAltTexts.count == 2 && repeated.flaggedCount == 2)
            #expect(repeated.galleryHTML().contains("Alt text repeats another image of this product"))

            let gallery = try #require(summary.gallery)
            try Self.checkGalleryWithPython(gallery, images: summary.succeeded)
            try Self.checkGalleryInABrowser(gallery, images: summary.succeeded)
        }
    }

    /// The gallery's structure, read by Python's html.parser: a page title, h1/h2/h3 headings,
    /// labelled filters, and a non-empty `alt` on every image, equal to its sidecar's alt text.
    static func checkGalleryWithPython(_ path: String, images: Int) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else {
            print("skipping the gallery's structure check: /usr/bin/python3 is not installed")
            return
        }
        let script = #"""
            import html.parser, json, sys
            class P(html.parser.HTMLParser):
                def __init__(self):
                    super().__init__(); self.imgs = []; self.tags = {}; self.labels = 0; self.inputs = 0; self.lang = None
                def handle_starttag(self, tag, attrs):
                    a = dict(attrs); self.tags[tag] = self.tags.get(tag, 0) + 1
                    if tag == "img": self.imgs.append(a.get("alt"))
                    if tag == "html": self.lang = a.get("lang")
                    if tag == "label": self.labels += 1
                    if tag == "input": self.inputs += 1
            p = P(); p.feed(open(sys.argv[1], encoding="utf-8").read())
            print(json.dumps({"imgs": p.imgs, "h1": p.tags.get("h1", 0), "h2": p.tags.get("h2", 0), "h3": p.tags.get("h3", 0),
                              "labels": p.labels, "inputs": p.inputs, "lang": p.lang, "title": p.tags.get("title", 0)}))
            """#
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        let scriptPath = try TestFiles.write(script, to: "check-gallery.py", in: directory)
        let result = try CommandRunner.runTool("/usr/bin/python3", [scriptPath, path])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        let alts = try #require(report["imgs"] as? [String?])
        #expect(alts.count == images)
        #expect(alts.allSatisfy { ($0 ?? "").count > 10 })
        #expect(report["h1"] as? Int == 1 && report["h2"] as? Int == 1 && report["h3"] as? Int == images)
        #expect(report["labels"] as? Int == report["inputs"] as? Int, "every filter has a label")
        #expect(report["lang"] as? String == "en" && report["title"] as? Int == 1)
    }

    /// The gallery in a real headless browser (Debian's chromium): it loads, every image renders,
    /// and a screenshot is taken. Skipped, with a message, where no browser is installed.
    static func checkGalleryInABrowser(_ path: String, images: Int) throws {
        let candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        guard let browser = candidates.first(where: FileManager.default.isExecutableFile(atPath:)) else {
            print("skipping the gallery's browser check: no chromium installed (apt-get install chromium)")
            return
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        let screenshot = directory.appendingPathComponent("gallery.png").path
        let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files", "--virtual-time-budget=5000"]
        let shot = try CommandRunner.runTool(browser, flags + ["--window-size=1280,2000", "--screenshot=\(screenshot)", "file://\(path)"])
        #expect(shot.status == 0, "\(shot.output.suffix(500))")
        let size = (try? FileManager.default.attributesOfItem(atPath: screenshot)[.size] as? Int) ?? 0
        #expect(size > 10_000, "the screenshot shows a rendered page")
        // After load, the DOM is dumped with each image's alt and whether it decoded.
        let page = try String(contentsOfFile: path, encoding: .utf8)
        let probe = page.replacingOccurrences(
            of: "</body>",
            with: "<script>window.addEventListener('load', () => { const d = document.createElement('pre'); d.id = 'probe'; d.textContent = JSON.stringify([...document.images].map(i => [i.alt, i.complete && i.naturalWidth > 0])); document.body.appendChild(d); });</script></body>")
        let probePath = try TestFiles.write(probe, to: "probe.html", in: directory)
        let dump = try CommandRunner.runTool(browser, flags + ["--dump-dom", "file://\(probePath)"])
        guard let start = dump.output.range(of: "<pre id=\"probe\">"), let end = dump.output.range(of: "</pre>", range: start.upperBound..<dump.output.endIndex) else {
            Issue.record("the browser's DOM has no probe: \(dump.output.suffix(500))")
            return
        }
        let json = String(dump.output[start.upperBound..<end.lowerBound]).replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
        let rendered = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[Any]])
        #expect(rendered.count == images)
        #expect(rendered.allSatisfy { ($0[0] as? String ?? "").count > 10 && ($0[1] as? Bool) == true })
    }
}

/// `--batch`: half price through the Batch API, and nothing lost or paid twice when a run stops
/// while its jobs wait.
@Suite(.serialized) struct BatchRunTests {
    @Test func batchRunsWriteEverythingAtHalfPrice() async throws {
        try await TestFiles.withTemporaryDirectoryAsync { directory in
            var online = RunnerTests.options(out: directory.appendingPathComponent("online"), limit: 2)
            online.locales = ["en-US"]
            online.templates = [TestFiles.packageRoot.appendingPathComponent("templates/catalog-packshot.xml").path]
            let onlineSummary = try await Runner(options: online).run()
            var options = online
            options.outputDirectory = directory.appendingPathComponent("batch").path
            options.isBatch = true
            options.batchSize = 1
            options.batchPollInterval = .milliseconds(20)
            let summary = try await Runner(options: options).run()
            #expect(summary.succeeded == 2 && summary.failed == 0, "\(summary.failures)")
            #expect(abs(summary.costUSD - onlineSummary.costUSD / 2) < 0.001, "half the online price")
            let folder = directory.appendingPathComponent("batch/northwind/catalog-packshot")
            let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            #expect(files.filter { $0.hasSuffix(".png") }.count == 2 && files.filter { $0.hasSuffix(".alt.txt") }.count == 2)
            let again = try await Runner(options: options).run()
            #expect(again.skipped == 2 && again.succeeded == 0, "a rerun skips what the batch made")
        }
    }

    @Test func aStoppedRunCollectsItsJobsNextTimeWithoutPayingAgain() async throws {
        let emulator = try await EmulatorServer.start(configuration: .init(batchDelay: .milliseconds(1500)))
        defer { Task { await emulator.stop() } }
        try await TestFiles.withTemporaryDirectoryAsync { directory in
            var options = RunnerTests.options(out: directory, limit: 2)
            options.locales = ["en-US"]
            options.templates = [TestFiles.packageRoot.appendingPathComponent("templates/catalog-packshot.xml").path]
            options.backend = .gemini
            options.apiKey = "test-key"
            options.baseURL = emulator.baseURL
            options.isBatch = true
            options.batchPollInterval = .milliseconds(50)
            // The first run stops as soon as its job is submitted.
            let box = RunnerBox()
            let runner = Runner(options: options, notice: { line in if line.contains("submitted") { box.runner?.requestStop() } })
            box.runner = runner
            let first = try await runner.run()
            #expect(first.succeeded == 0 && first.interrupted)
            let second = try await Runner(options: options).run()
            #expect(second.succeeded == 2 && second.failed == 0, "\(second.failures)")
            let creates = await emulator.log.entries.filter { $0.path.hasSuffix(":batchGenerateContent") }
            #expect(creates.count == 1, "the job was collected, not submitted again")
        }
    }
}

final class RunnerBox: @unchecked Sendable {
    var runner: Runner?
}
