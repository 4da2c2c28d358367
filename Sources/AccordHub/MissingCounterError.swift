/// A dataset's counter row (`accord_datasets`) is gone: writing on would reuse seqs.
struct MissingCounterError: Error, CustomStringConvertible {
    var dataset: String
    var description: String {
        "the seq counter of dataset \(dataset) is missing from accord_datasets; restore it (its last_seq is the dataset's highest seq) before writing"
    }
}
