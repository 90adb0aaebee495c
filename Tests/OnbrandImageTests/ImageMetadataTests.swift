import Foundation
@testable import GeminiEmulator
import OnbrandImage
import OnbrandTestSupport
import Testing

@Suite struct ColorDifferenceTests {
    /// Sharma, Wu and Dalal (2005), "The CIEDE2000 color-difference formula: implementation notes,
    /// supplementary test data, and mathematical observations", Table 1: all 34 pairs.
    static let sharma: [[Double]] = [
        [50.0000, 2.6772, -79.7751, 50.0000, 0.0000, -82.7485, 2.0425], [50.0000, 3.1571, -77.2803, 50.0000, 0.0000, -82.7485, 2.8615],
        [50.0000, 2.8361, -74.0200, 50.0000, 0.0000, -82.7485, 3.4412], [50.0000, -1.3802, -84.2814, 50.0000, 0.0000, -82.7485, 1.0000],
        [50.0000, -1.1848, -84.8006, 50.0000, 0.0000, -82.7485, 1.0000], [50.0000, -0.9009, -85.5211, 50.0000, 0.0000, -82.7485, 1.0000],
        [50.0000, 0.0000, 0.0000, 50.0000, -1.0000, 2.0000, 2.3669], [50.0000, -1.0000, 2.0000, 50.0000, 0.0000, 0.0000, 2.3669],
        [50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0009, 7.1792], [50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0010, 7.1792],
        [50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0011, 7.2195], [50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0012, 7.2195],
        [50.0000, -0.0010, 2.4900, 50.0000, 0.0009, -2.4900, 4.8045], [50.0000, -0.0010, 2.4900, 50.0000, 0.0010, -2.4900, 4.8045],
        [50.0000, -0.0010, 2.4900, 50.0000, 0.0011, -2.4900, 4.7461], [50.0000, 2.5000, 0.0000, 50.0000, 0.0000, -2.5000, 4.3065],
        [50.0000, 2.5000, 0.0000, 73.0000, 25.0000, -18.0000, 27.1492], [50.0000, 2.5000, 0.0000, 61.0000, -5.0000, 29.0000, 22.8977],
        [50.0000, 2.5000, 0.0000, 56.0000, -27.0000, -3.0000, 31.9030], [50.0000, 2.5000, 0.0000, 58.0000, 24.0000, 15.0000, 19.4535],
        [50.0000, 2.5000, 0.0000, 50.0000, 3.1736, 0.5854, 1.0000], [50.0000, 2.5000, 0.0000, 50.0000, 3.2972, 0.0000, 1.0000],
        [50.0000, 2.5000, 0.0000, 50.0000, 1.8634, 0.5757, 1.0000], [50.0000, 2.5000, 0.0000, 50.0000, 3.2592, 0.3350, 1.0000],
        [60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644], [63.0109, -31.0961, -5.8663, 62.8187, -29.7946, -4.0864, 1.2630],
        [61.2901, 3.7196, -5.3901, 61.4292, 2.2480, -4.9620, 1.8731], [35.0831, -44.1164, 3.7933, 35.0232, -40.0716, 1.5901, 1.8645],
        [22.7233, 20.0904, -46.6940, 23.0331, 14.9730, -42.5619, 2.0373], [36.4612, 47.8580, 18.3852, 36.2715, 50.5065, 21.2231, 1.4146],
        [90.8027, -2.0831, 1.4410, 91.1528, -1.6435, 0.0447, 1.4441], [90.9257, -0.5406, -0.9208, 88.6381, -0.8985, -0.7239, 1.5381],
        [6.7747, -0.2908, -2.4247, 5.8714, -0.0985, -2.2286, 0.6377], [2.0776, 0.0795, -1.1350, 0.9033, -0.0636, -0.5514, 0.9082],
    ]

    @Test func matchesEveryPublishedPair() {
        #expect(Self.sharma.count == 34)
        for row in Self.sharma {
            let first = LabColor(l: row[0], a: row[1], b: row[2]), second = LabColor(l: row[3], a: row[4], b: row[5])
            #expect(abs(deltaE2000(first, second) - row[6]) < 1e-4, "\(row)")
            #expect(abs(deltaE2000(second, first) - row[6]) < 1e-4, "symmetric: \(row)")
        }
    }

    @Test func convertsSRGBToLab() throws {
        let white = try #require(LabColor(hex: "#FFFFFF"))
        #expect(abs(white.l - 100) < 0.01 && abs(white.a) < 0.01 && abs(white.b) < 0.01)
        let red = try #require(LabColor(hex: "#FF0000"))
        #expect(abs(red.l - 53.24) < 0.05 && abs(red.a - 80.09) < 0.05 && abs(red.b - 67.20) < 0.05)
        #expect(abs(deltaE2000(LabColor(hex: "#000000")!, white) - 100) < 0.01)
    }
}

@Suite struct ImageMetadataTests {
    static let metadata = ImageMetadata(
        altText: [
            .init(language: "en-US", text: "Trail Runner 2 in red & black <mesh> on white, \"lightweight\""),
            .init(language: "de-DE", text: "Trail Runner 2 in Rot und Schwarz auf Weiß"),
            .init(language: "ja-JP", text: "白い背景の赤いランニングシューズ 👟"),
        ],
        extendedDescription: [.init(language: "en-US", text: "A red and black running shoe, side view, soft shadow.")])

    static func png(width: Int = 40, height: Int = 30, colors: [String] = ["#1F6FEB", "#FFCC00"]) -> Data {
        PNGEncoder.bands(width: width, height: height, colors: colors.compactMap(PNGEncoder.Color.init(hex:)))
    }

    /// The PNG with a stand-in C2PA chunk (`caBX`) after IHDR.
    static func pngWithC2PA() -> Data {
        let png = Self.png()
        let ihdrEnd = 8 + 12 + 13
        var chunk = Data([0, 0, 0, 5]) + Data("caBXjumbf".utf8)
        chunk += Data([0xDE, 0xAD, 0xBE, 0xEF])  // a CRC readers of unknown chunks do not check
        return png.prefix(ihdrEnd) + chunk + png.dropFirst(ihdrEnd)
    }

    @Test func pngRoundTripKeepsC2PAAndPixels() throws {
        let original = Self.pngWithC2PA()
        let tagged = try ImageContainer.embedding(xmp: XMPPacket.build(Self.metadata), in: original)
        let info = try ImageContainer.info(of: tagged)
        #expect(info.format == .png && info.width == 40 && info.height == 30 && info.hasC2PA)
        let read = try XMPPacket.parse(try #require(info.xmp))
        #expect(read == Self.metadata)
        #expect(read.digitalSourceType == ImageMetadata.trainedAlgorithmicMedia)
        #expect(tagged.range(of: Data("caBXjumbf".utf8) + Data([0xDE, 0xAD, 0xBE, 0xEF])) != nil, "the C2PA chunk is kept byte for byte")
        // Embedding again replaces the packet rather than adding a second.
        var changed = Self.metadata
        changed.altText = [.init(language: "en-US", text: "Second version")]
        let again = try ImageContainer.embedding(xmp: XMPPacket.build(changed), in: tagged)
        #expect(try XMPPacket.parse(try #require(ImageContainer.info(of: again).xmp)).altText.map(\.text) == ["Second version"])
        #expect(again.ranges(of: Data("XML:com.adobe.xmp".utf8)).count == 1)
        // The pixels are untouched: the palette reads the same.
        let verifier = ImageVerifier(palette: [("Blue", "#1F6FEB"), ("Yellow", "#FFCC00")])
        #expect(try verifier.score(again) == verifier.score(original))
    }

    @Test func jpegRoundTripKeepsAPP11AndScanData() throws {
        let url = try #require(Bundle.module.url(forResource: "blue-8x6", withExtension: "jpg", subdirectory: "Fixtures"))
        var jpeg = try Data(contentsOf: url)
        // A stand-in C2PA JUMBF segment (APP11) after APP0.
        let app11 = Data([0xFF, 0xEB, 0x00, 0x08]) + Data("JP\u{0}\u{0}\u{1}\u{2}".utf8)
        jpeg = jpeg.prefix(20) + app11 + jpeg.dropFirst(20)
        let tagged = try ImageContainer.embedding(xmp: XMPPacket.build(Self.metadata), in: jpeg)
        let info = try ImageContainer.info(of: tagged)
        #expect(info.format == .jpeg && info.width == 8 && info.height == 6 && info.hasC2PA)
        #expect(try XMPPacket.parse(try #require(info.xmp)) == Self.metadata)
        #expect(tagged.range(of: app11) != nil)
        let scan = try #require(jpeg.range(of: Data([0xFF, 0xDA])))
        #expect(tagged.suffix(jpeg.count - scan.lowerBound) == jpeg[scan.lowerBound...], "entropy-coded data copied as is")
    }

    /// Python's standard library (struct and xml.etree), knowing nothing of Onbrand, finds the
    /// same alt texts and source type in both files.
    @Test func anIndependentReaderSeesTheSameValues() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else {
            print("skipping: /usr/bin/python3 is not installed")
            return
        }
        try TestFiles.withTemporaryDirectory { directory in
            let url = try #require(Bundle.module.url(forResource: "blue-8x6", withExtension: "jpg", subdirectory: "Fixtures"))
            let packet = XMPPacket.build(Self.metadata)
            let png = try TestFiles.write(bytes: [UInt8](try ImageContainer.embedding(xmp: packet, in: Self.png())), to: "a.png", in: directory)
            let jpg = try TestFiles.write(bytes: [UInt8](try ImageContainer.embedding(xmp: packet, in: Data(contentsOf: url))), to: "a.jpg", in: directory)
            let script = try TestFiles.write(Self.reader, to: "read.py", in: directory)
            for file in [png, jpg] {
                let result = try CommandRunner.runTool("/usr/bin/python3", [script, file])
                #expect(result.status == 0, "\(result.output)")
                let values = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
                let alt = values?["alt"] as? [String: String]
                #expect(alt?["x-default"] == Self.metadata.altText[0].text)
                #expect(alt?["ja-JP"] == Self.metadata.altText[2].text)
                #expect(values?["source"] as? String == ImageMetadata.trainedAlgorithmicMedia)
            }
        }
    }

    static let reader = #"""
        import json, struct, sys, xml.etree.ElementTree as ET
        data = open(sys.argv[1], "rb").read()
        packet = None
        if data[:8] == b"\x89PNG\r\n\x1a\n":
            i = 8
            while i < len(data):
                n, kind = struct.unpack(">I4s", data[i:i + 8]); body = data[i + 8:i + 8 + n]; i += 12 + n
                if kind == b"iTXt" and body.startswith(b"XML:com.adobe.xmp\x00"):
                    packet = body.split(b"\x00", 5)[5]
        else:
            i = 2
            while data[i] == 0xFF and data[i + 1] != 0xDA:
                n = struct.unpack(">H", data[i + 2:i + 4])[0]; body = data[i + 4:i + 2 + n]; i += 2 + n
                if data[i - 2 - n + 1] == 0xE1 and body.startswith(b"http://ns.adobe.com/xap/1.0/\x00"):
                    packet = body[29:]
        root = ET.fromstring(packet.decode("utf-8").split("?>", 1)[1].rsplit("<?xpacket", 1)[0])
        ns = {"rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "core": "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/",
              "ext": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"}
        lang = "{http://www.w3.org/XML/1998/namespace}lang"
        alt = {li.get(lang): li.text for li in root.findall(".//core:AltTextAccessibility/rdf:Alt/rdf:li", ns)}
        print(json.dumps({"alt": alt, "source": root.find(".//ext:DigitalSourceType", ns).text}))
        """#

    @Test func brokenFilesAreClearErrors() {
        let png = Self.png()
        #expect(throws: ImageFileError.self) { try ImageContainer.info(of: png.prefix(40)) }
        #expect(throws: ImageFileError.self) { try ImageContainer.embedding(xmp: "x", in: Data("GIF89a".utf8)) }
        #expect(throws: ImageFileError.self) { try ImageContainer.embedding(xmp: "x", in: Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10])) }
        #expect(throws: ImageFileError.self) { try ImageVerifier(palette: []).score(png.prefix(png.count - 30)) }
    }
}

@Suite struct ImageVerifierTests {
    @Test func sizeRatioAndMerchantRules() {
        let verifier = ImageVerifier(palette: [("Blue", "#1F6FEB"), ("Yellow", "#FFCC00")])
        let square = ImageMetadataTests.png(width: 64, height: 64)
        let good = verifier.verify(square, expecting: .init(aspectRatio: "1:1", width: 64, height: 64, fileName: "a.png", merchantRules: true, isApparel: false))
        #expect(good.ratioMatches == true && good.sizeMatches == true && good.extensionMatches)
        #expect(good.merchantProblems?.isEmpty == false, "64×64 is under Merchant Center's 100×100")
        let wide = verifier.verify(
            ImageMetadataTests.png(width: 300, height: 200),
            expecting: .init(aspectRatio: "1:1", width: 300, height: 300, fileName: "a.jpg", merchantRules: true, isApparel: true))
        #expect(wide.ratioMatches == false && wide.sizeMatches == false && !wide.extensionMatches)
        #expect(wide.merchantProblems?.contains { $0.contains("250×250") } == true)
        #expect(wide.problems.count >= 3)
    }

    @Test func paletteScoreFlagsOffBrandColoursButNotNeutrals() throws {
        let verifier = ImageVerifier(palette: [("Blue", "#1F6FEB"), ("Yellow", "#FFCC00")])
        let onBrand = try verifier.score(ImageMetadataTests.png(colors: ["#1F6FEB", "#FFFFFF", "#FFCC00"]))
        #expect(!onBrand.flagged && onBrand.meanDeltaE < 1)
        #expect(onBrand.colors.contains { $0.isNeutral && $0.hex == "#FFFFFF" })
        let offBrand = try verifier.score(ImageMetadataTests.png(colors: ["#E0703A", "#FFFFFF"]))
        #expect(offBrand.flagged && offBrand.meanDeltaE > 3)
        #expect(offBrand.colors.first { $0.flagged }?.hex == "#E0703A")
        // JPEG through libjpeg: the fixture is a flat #1F6FEB, within a JPEG's rounding of the palette.
        let url = try #require(Bundle.module.url(forResource: "blue-8x6", withExtension: "jpg", subdirectory: "Fixtures"))
        let jpeg = try Data(contentsOf: url)
        let blue = try verifier.score(jpeg)
        #expect(!blue.flagged && blue.colors.count == 1 && blue.meanDeltaE < 1.5)
        #expect(try ImageVerifier(palette: [("Ember", "#E0703A")]).score(jpeg).flagged)
        #expect(throws: ImageFileError.self) { try verifier.score(jpeg.prefix(300)) }
        #expect(throws: ImageFileError.self) { try verifier.score(jpeg.prefix(jpeg.count - 40)) }
        #expect(throws: ImageFileError.self) { try verifier.score(Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10]) + Data(repeating: 0x41, count: 200)) }
        // Noise like a photograph's does not move the bins' means off the colour.
        let grainy = PNGEncoder.bands(width: 200, height: 200, colors: [PNGEncoder.Color(hex: "#1F6FEB")!], grain: 6)
        #expect(try !verifier.score(grainy).flagged)
    }
}

/// Hostile image headers end as errors or flagged checks, never a trap or a huge allocation.
@Suite struct HostileImageTests {
    @Test func absurdPNGDimensionsAreFlaggedNotTrapped() {
        var png = ImageMetadataTests.png(width: 8, height: 8)
        // IHDR's width and height (bytes 16–23) set to 4,294,967,295 each; the CRC no longer matches, as an attacker's would not.
        png.replaceSubrange(16..<24, with: [UInt8](repeating: 0xFF, count: 8))
        let verification = ImageVerifier(palette: []).verify(
            png, expecting: .init(aspectRatio: "1:1", width: 1024, height: 1024, fileName: "x.png", merchantRules: true, isApparel: false))
        #expect(verification.merchantProblems?.contains { $0.contains("64 megapixels") } == true)
        #expect(verification.paletteNotMeasured != nil, "the decoder refuses the size instead of allocating for it")
    }

    @Test func aJPEGDeclaringGiganticDimensionsIsRefused() throws {
        let url = try #require(Bundle.module.url(forResource: "blue-8x6", withExtension: "jpg", subdirectory: "Fixtures"))
        var jpeg = try Data(contentsOf: url)
        let sof = try #require(jpeg.range(of: Data([0xFF, 0xC0])))
        // SOF0: marker, length (2), precision (1), height (2), width (2): 65,500 × 65,500.
        jpeg.replaceSubrange(sof.lowerBound + 5..<sof.lowerBound + 9, with: [0xFF, 0xDC, 0xFF, 0xDC])
        let error = #expect(throws: ImageFileError.self) { try ImageVerifier(palette: []).score(jpeg) }
        #expect(error?.reason.contains("100-megapixel") == true)
    }
}
