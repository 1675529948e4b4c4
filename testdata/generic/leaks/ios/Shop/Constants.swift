import Foundation

enum Constants {
    static let baseURL = URL(string: "https://api.acme-corp.io")!
    static let apiSecret = "YJcA1YttGUBVAuVbb7TWVuaAtedDSgNU"
    static let timeout: TimeInterval = 30
}
