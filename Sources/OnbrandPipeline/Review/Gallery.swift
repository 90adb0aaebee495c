public import Foundation
import OnbrandImage

extension RunReview {
    /// Writes `index.html` beside the template folders: one self-contained page (no server, no
    /// external assets) showing every image with its alt text and checks, and every failed unit.
    /// It is itself accessible: real `alt` attributes, headings, landmarks, visible focus,
    /// filters that are form controls, text contrast above 7:1.
    @discardableResult
    public func writeGallery() throws -> URL {
        let url = root.appendingPathComponent("index.html")
        try OutputWriter.write(Data(galleryHTML().utf8), to: url)
        return url
    }

    /// Cards on the page at most: flagged images first, then the rest; a million-image run gets a
    /// page a browser can open, and the manifest lists everything.
    public static let maximumCards = 2000

    public func galleryHTML() -> String {
        var cards = ""
        let flaggedFirst = entries.filter(isFlagged) + entries.filter { !isFlagged($0) }
        let shown = flaggedFirst.prefix(max(Self.maximumCards - failures.count, 0))
        for entry in shown {
            let sidecar = entry.sidecar
            let flagged = isFlagged(entry)
            let lintErrors = sidecar.altTextLint.filter(\.isError)
            var checks: [String] = []
            if let verification = sidecar.verification {
                let size = "\(verification.width.map(String.init) ?? "?")×\(verification.height.map(String.init) ?? "?") \(verification.format.rawValue)"
                checks.append("<li>Size: \(Self.html(size)) — \(verification.ratioMatches == false || verification.sizeMatches == false ? "<strong>not as asked</strong>" : "as asked")</li>")
                if let merchant = verification.merchantProblems {
                    checks.append("<li>Merchant Center: \(merchant.isEmpty ? "passes" : "<strong>" + Self.html(merchant.joined(separator: "; ")) + "</strong>")</li>")
                }
                if let palette = verification.palette {
                    let swatches = palette.colors.map { color in
                        "<span class=\"swatch\" style=\"background:\(Self.html(color.hex))\" aria-hidden=\"true\"></span>\(Self.html(color.hex))"
                            + (color.isNeutral ? " (neutral)" : " ΔE \(String(format: "%.1f", color.deltaE ?? 0)) to \(Self.html(color.nearest ?? "?"))")
                            + (color.flagged ? " <strong>off-palette</strong>" : "")
                    }
                    checks.append("<li>Palette: mean ΔE2000 \(String(format: "%.2f", palette.meanDeltaE)) (tolerance \(String(format: "%.1f", palette.threshold))): \(swatches.joined(separator: "; "))</li>")
                } else if let reason = verification.paletteNotMeasured {
                    checks.append("<li>Palette: not measured (\(Self.html(reason)))</li>")
                }
            }
            checks.append("<li>Alt text: \(lintErrors.isEmpty ? "passes the checks" : "<strong>" + Self.html(lintErrors.map(\.message).joined(separator: "; ")) + "</strong>") (from the \(Self.html(sidecar.altTextSource)))</li>")
            if duplicateAltTexts.contains(entry.imagePath) {
                checks.append("<li><strong>Alt text repeats another image of this product</strong>: each image of a gallery needs its own</li>")
            }
            if let grounding = sidecar.grounding, !grounding.sources.isEmpty {
                let links = grounding.sources.map { source in
                    // Only web links become links: a `javascript:` URI in a sidecar must not run on a click.
                    let uri = source.uri.flatMap { $0.lowercased().hasPrefix("https://") || $0.lowercased().hasPrefix("http://") ? $0 : nil }
                    let title = Self.html(source.title ?? source.uri ?? "source")
                    return uri.map { "<a href=\"\(Self.html($0))\" rel=\"noopener noreferrer\">\(title)</a>" } ?? title
                }
                checks.append("<li>Grounded in: \(links.joined(separator: ", "))</li>")
            }
            checks.append("<li>Cost: $\(String(format: "%.4f", sidecar.costUSD)) · \(Self.html(sidecar.model)) · \(Self.html(sidecar.backend))</li>")
            cards += """
                <li class="card\(flagged ? " flagged" : "")" data-flagged="\(flagged)" data-failed="false">
                  <article aria-labelledby="h-\(Self.html(Self.anchor(entry.imagePath)))">
                    <h3 id="h-\(Self.html(Self.anchor(entry.imagePath)))">\(Self.html(sidecar.productID)) · \(Self.html(sidecar.templateID)) · \(Self.html(sidecar.locale))\(flagged ? " <span class=\"badge\">flagged</span>" : "")</h3>
                    <a href="\(Self.html(entry.imagePath))"><img src="\(Self.html(entry.imagePath))" alt="\(Self.html(sidecar.altText))" loading="lazy" width="\(sidecar.image.width ?? 256)" height="\(sidecar.image.height ?? 256)"></a>
                    <p class="alt"><span class="label">Alt text:</span> \(Self.html(sidecar.altText))</p>
                    <ul class="checks">\(checks.joined())</ul>
                  </article>
                </li>

                """
        }
        for failure in failures.prefix(Self.maximumCards) {
            cards += """
                <li class="card failed" data-flagged="true" data-failed="true">
                  <article>
                    <h3>\(Self.html(failure.productID)) · \(Self.html(failure.templateID)) · \(Self.html(failure.locale)) <span class="badge">\(Self.html(failure.state))</span></h3>
                    <p>No image: \(Self.html(failure.failureKind ?? failure.state)) — \(Self.html(failure.reason ?? "no reason recorded"))</p>
                  </article>
                </li>

                """
        }
        let batch = paletteMeanDeltaE.map {
            "Batch palette: mean ΔE2000 \(String(format: "%.2f", $0)) against a tolerance of \(String(format: "%.1f", batchTolerance))"
                + (isPaletteFlagged ? " — <strong>over the brand's tolerance</strong>." : ".")
        } ?? "Batch palette: not measured."
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(Self.html(brandName)) — Onbrand review</title>
            <style>
            body { font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #111; background: #fff; }
            header, main { padding: 1rem 2rem; }
            header { border-bottom: 1px solid #767676; }
            fieldset { border: 1px solid #767676; display: inline-block; }
            ul.grid { list-style: none; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(18rem, 1fr)); gap: 1.5rem; }
            .card { border: 1px solid #767676; padding: 0.75rem; }
            .card.flagged { border: 3px solid #8a1c00; }
            .card img { width: 100%; height: auto; background: #eee; }
            h3 { font-size: 1rem; margin: 0 0 0.5rem; }
            .badge { background: #8a1c00; color: #fff; padding: 0 0.4rem; border-radius: 0.2rem; font-size: 0.85rem; }
            .label { font-weight: 600; }
            .checks { padding-left: 1.1rem; font-size: 0.9rem; }
            .swatch { display: inline-block; width: 0.9rem; height: 0.9rem; border: 1px solid #111; vertical-align: middle; margin-right: 0.2rem; }
            a { color: #0b4f9c; }
            a:focus, input:focus, .card:focus-within { outline: 3px solid #0b4f9c; outline-offset: 2px; }
            .hidden { display: none; }
            </style>
            </head>
            <body>
            <header>
            <h1>\(Self.html(brandName)): \(entries.count) images, \(failures.count) without an image, \(flaggedCount) flagged</h1>
            <p>\(batch)</p>
            \(shown.count < entries.count ? "<p>Showing \(shown.count) of \(entries.count) images, flagged ones first; manifest.jsonl lists every unit.</p>" : "")
            <form aria-label="Filters">
            <fieldset><legend>Show</legend>
            <label><input type="checkbox" id="only-flagged"> only flagged or failed</label>
            <label><input type="checkbox" id="only-failed"> only failed</label>
            </fieldset>
            </form>
            </header>
            <main>
            <h2>Images</h2>
            <ul class="grid" id="cards">
            \(cards)</ul>
            </main>
            <script>
            const flagged = document.getElementById('only-flagged'), failed = document.getElementById('only-failed');
            function apply() {
              for (const card of document.querySelectorAll('#cards > li')) {
                const hide = (flagged.checked && card.dataset.flagged !== 'true') || (failed.checked && card.dataset.failed !== 'true');
                card.classList.toggle('hidden', hide);
              }
            }
            flagged.addEventListener('change', apply);
            failed.addEventListener('change', apply);
            </script>
            </body>
            </html>

            """
    }

    /// Whether an image needs a reviewer: a failed image check, an alt-text error, or alt text that
    /// repeats another image of the same product in the same language.
    public func isFlagged(_ entry: Entry) -> Bool {
        !(entry.sidecar.verification?.problems.isEmpty ?? true) || entry.sidecar.altTextLint.contains(where: \.isError)
            || duplicateAltTexts.contains(entry.imagePath)
    }

    public var flaggedCount: Int { entries.filter(isFlagged).count }

    static func anchor(_ path: String) -> String {
        String(path.map { $0.isLetter || $0.isNumber ? $0 : "-" })
    }

    static func html(_ text: String) -> String {
        xml(text).replacingOccurrences(of: "'", with: "&#39;")
    }
}
