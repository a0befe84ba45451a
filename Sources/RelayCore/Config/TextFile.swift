#if canImport(Glibc)
import Glibc
#endif

/// Reads the small UTF-8 text files the config is made of: the config itself and the server lists it names.
enum TextFile {
    /// Why a file could not be read, in words that finish "cannot read …: ".
    struct Failure: Error, Equatable {
        var reason: String
    }

    /// Files larger than this are refused: a real config or server list is at most a few hundred kilobytes, and a
    /// limit keeps a wrong path (a device, a huge log) from being read into memory.
    static let maximumSize = 16 << 20

    /// The whole text of the file at `path`; `kind` names what the file should be (`a config`) in the message
    /// for one that is too large.
    static func read(_ path: String, kind: String) throws(Failure) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure(reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { buffer in
                Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(reason: String(cString: strerror(errno)))
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > maximumSize {
                throw Failure(reason: "it is larger than \(ByteSize.format(maximumSize)), too large to be \(kind)")
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw Failure(reason: "it is not UTF-8 text")
        }
        return text
    }

    /// The directory part of `path`, for resolving the paths written in a file against it: `.` for a bare file
    /// name, `/` for a file at the root.
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// `path` as seen from `directory`: absolute paths stay as they are, relative ones are joined to it (and are
    /// left alone when it is `.`, so messages show them as written).
    static func resolve(_ path: String, in directory: String) -> String {
        if path.hasPrefix("/") || directory == "." || directory.isEmpty { return path }
        return directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }
}
