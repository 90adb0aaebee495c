import Foundation

/// A colour in CIELAB (D65), the space where ΔE2000 is defined.
public struct LabColor: Sendable, Hashable, Codable {
    public var l: Double
    public var a: Double
    public var b: Double

    public init(l: Double, a: Double, b: Double) {
        self.l = l
        self.a = a
        self.b = b
    }

    /// From 8-bit sRGB, through linear light and XYZ with the D65 white point.
    public init(red: UInt8, green: UInt8, blue: UInt8) {
        func linear(_ channel: UInt8) -> Double {
            let value = Double(channel) / 255
            return value <= 0.04045 ? value / 12.92 : pow((value + 0.055) / 1.055, 2.4)
        }
        let (r, g, b) = (linear(red), linear(green), linear(blue))
        let x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
        let y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
        let z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883
        func f(_ t: Double) -> Double { t > 216.0 / 24389 ? cbrt(t) : (24389.0 / 27 * t + 16) / 116 }
        self.init(l: 116 * f(y) - 16, a: 500 * (f(x) - f(y)), b: 200 * (f(y) - f(z)))
    }

    /// `#RRGGBB`; `nil` for anything else.
    public init?(hex: String) {
        let digits = hex.hasPrefix("#") ? hex.dropFirst() : Substring(hex)
        guard digits.count == 6, let value = UInt32(digits, radix: 16) else { return nil }
        self.init(red: UInt8(value >> 16 & 0xFF), green: UInt8(value >> 8 & 0xFF), blue: UInt8(value & 0xFF))
    }

    /// Chroma: how far from grey.
    public var chroma: Double { (a * a + b * b).squareRoot() }
}

/// The CIEDE2000 colour difference (Sharma, Wu and Dalal, 2005), with kL = kC = kH = 1.
public func deltaE2000(_ first: LabColor, _ second: LabColor) -> Double {
    let radians = Double.pi / 180
    let c1 = first.chroma, c2 = second.chroma
    let meanC = (c1 + c2) / 2
    let meanC7 = pow(meanC, 7)
    let g = 0.5 * (1 - (meanC7 / (meanC7 + pow(25, 7))).squareRoot())
    let a1 = (1 + g) * first.a, a2 = (1 + g) * second.a
    let c1p = (a1 * a1 + first.b * first.b).squareRoot(), c2p = (a2 * a2 + second.b * second.b).squareRoot()
    func hue(_ b: Double, _ a: Double) -> Double {
        if a == 0 && b == 0 { return 0 }
        let angle = atan2(b, a) / radians
        return angle < 0 ? angle + 360 : angle
    }
    let h1 = hue(first.b, a1), h2 = hue(second.b, a2)
    let deltaL = second.l - first.l
    let deltaC = c2p - c1p
    var deltaH = 0.0
    if c1p * c2p != 0 {
        deltaH = h2 - h1
        if deltaH > 180 { deltaH -= 360 } else if deltaH < -180 { deltaH += 360 }
    }
    let deltaBigH = 2 * (c1p * c2p).squareRoot() * sin(deltaH / 2 * radians)
    let meanL = (first.l + second.l) / 2
    let meanCp = (c1p + c2p) / 2
    var meanH = h1 + h2
    if c1p * c2p != 0 {
        if abs(h1 - h2) <= 180 {
            meanH /= 2
        } else {
            meanH = h1 + h2 < 360 ? (h1 + h2 + 360) / 2 : (h1 + h2 - 360) / 2
        }
    }
    let t = 1 - 0.17 * cos((meanH - 30) * radians) + 0.24 * cos(2 * meanH * radians) + 0.32 * cos((3 * meanH + 6) * radians)
        - 0.20 * cos((4 * meanH - 63) * radians)
    let deltaTheta = 30 * exp(-pow((meanH - 275) / 25, 2))
    let meanCp7 = pow(meanCp, 7)
    let rc = 2 * (meanCp7 / (meanCp7 + pow(25, 7))).squareRoot()
    let sl = 1 + 0.015 * pow(meanL - 50, 2) / (20 + pow(meanL - 50, 2)).squareRoot()
    let sc = 1 + 0.045 * meanCp
    let sh = 1 + 0.015 * meanCp * t
    let rt = -sin(2 * deltaTheta * radians) * rc
    let l = deltaL / sl, c = deltaC / sc, h = deltaBigH / sh
    return (l * l + c * c + h * h + rt * c * h).squareRoot()
}
