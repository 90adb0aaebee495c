/// Placeholder until the calibration tool has run.
public enum EstimatorCalibration {
    public static let costs: [TextRunKind: [Double]] = [:]
    public static let capitalizedLatinCosts: [Double] = []
    public static let safetyMargin = 1.0
    public static let measurement = ""
}
