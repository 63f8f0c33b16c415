//! Deterministic tar stream encoder.
//!
//! The caller (JavaScript) walks the tree, does all I/O and hashes the stream
//! (in parallel, as BLAKE3 subtrees: wasm/pack.ts); this module turns entry
//! metadata into header blocks and padding, and checks that each file's data
//! matches the size its header announced.
//!
//! Determinism: mtime 0, uid/gid 0, empty user and group names, device numbers
//! 0, mode bits as given. ustar is used whenever a field fits; a PAX extended
//! header carries what does not (long path, long link target, size >= 8 GiB)
//! and every xattr, with its records in a fixed key order.

const std = @import("std");

pub const BLOCK = 512;

pub const Kind = enum(u32) {
    file = 0,
    hardlink = 1,
    symlink = 2,
    directory = 5,
    fifo = 6,
};

pub const Error = error{
    BadKind,
    EmptyPath,
    OutputTooSmall,
    DataOverflow,
    DataMissing,
    BadXattrs,
};

/// Largest size the 11 octal digits of a ustar size field can hold.
const USTAR_MAX_SIZE: u64 = (1 << 33) - 1;
const PAX_HEADER_NAME = "././@PaxHeader";

pub const Writer = struct {
    /// Data bytes the current entry still expects.
    remaining: u64 = 0,
    /// Data bytes of the current entry, for the padding computation.
    entry_size: u64 = 0,
    /// Writes the header block(s) of one entry into `out` and returns their length.
    /// `xattrs` is a sequence of records: u32le key length, key, u32le value length, value,
    /// already sorted by key.
    pub fn header(
        self: *Writer,
        kind_raw: u32,
        mode: u32,
        size_in: u64,
        path: []const u8,
        link: []const u8,
        xattrs: []const u8,
        out: []u8,
    ) Error!usize {
        if (self.remaining != 0) return Error.DataMissing;
        const kind = std.meta.intToEnum(Kind, kind_raw) catch return Error.BadKind;
        if (path.len == 0) return Error.EmptyPath;
        const size: u64 = if (kind == .file) size_in else 0;

        var pos: usize = 0;
        const split = splitUstarName(path);
        const needs_path = split == null;
        const needs_link = link.len > 100;
        const needs_size = size > USTAR_MAX_SIZE;
        if (needs_path or needs_link or needs_size or xattrs.len > 0) {
            const pax_len = try paxLength(path, link, size, needs_path, needs_link, needs_size, xattrs);
            const padded: usize = @intCast(roundUp(pax_len));
            if (out.len < BLOCK + padded + BLOCK) return Error.OutputTooSmall;
            writeUstar(out[0..BLOCK], .{ .name = PAX_HEADER_NAME, .prefix = "" }, 'x', 0o644, pax_len, "");
            var body = out[BLOCK..][0..padded];
            @memset(body, 0);
            var w: usize = 0;
            if (needs_link) w += writeRecord(body[w..], "linkpath", link);
            if (needs_path) w += writeRecord(body[w..], "path", path);
            if (needs_size) {
                var digits: [20]u8 = undefined;
                w += writeRecord(body[w..], "size", decimal(&digits, size));
            }
            var it = XattrIter{ .rest = xattrs };
            while (try it.next()) |x| w += writeXattrRecord(body[w..], x.key, x.value);
            std.debug.assert(w == pax_len);
            pos = BLOCK + padded;
        } else if (out.len < BLOCK) {
            return Error.OutputTooSmall;
        }

        const name = split orelse fallbackName(path);
        const typeflag: u8 = switch (kind) {
            .file => '0',
            .hardlink => '1',
            .symlink => '2',
            .directory => '5',
            .fifo => '6',
        };
        const link_field = if (needs_link) link[0..100] else link;
        writeUstar(out[pos..][0..BLOCK], name, typeflag, mode & 0o7777, if (needs_size) 0 else size, link_field);
        pos += BLOCK;

        self.remaining = size;
        self.entry_size = size;
        return pos;
    }

    /// Feeds file data of the current entry. Returns 1 when the bytes were all zero,
    /// so the caller may leave a hole in the output instead of writing them.
    pub fn data(self: *Writer, bytes: []const u8) Error!u32 {
        if (bytes.len > self.remaining) return Error.DataOverflow;
        self.remaining -= bytes.len;
        return if (allZero(bytes)) 1 else 0;
    }

    /// Closes the current entry: writes its padding into `out` and returns its length.
    pub fn endEntry(self: *Writer, out: []u8) Error!usize {
        if (self.remaining != 0) return Error.DataMissing;
        const pad: usize = @intCast(roundUp(self.entry_size) - self.entry_size);
        if (out.len < pad) return Error.OutputTooSmall;
        @memset(out[0..pad], 0);
        self.entry_size = 0;
        return pad;
    }

    /// Writes the two zero blocks that end an archive.
    pub fn finish(self: *Writer, out: []u8) Error!usize {
        if (self.remaining != 0) return Error.DataMissing;
        if (out.len < 2 * BLOCK) return Error.OutputTooSmall;
        @memset(out[0 .. 2 * BLOCK], 0);
        return 2 * BLOCK;
    }
};

fn roundUp(n: u64) u64 {
    return (n + BLOCK - 1) / BLOCK * BLOCK;
}

/// Stops at the first 64-byte block holding a non-zero byte: real file data
/// almost always ends the scan in its first block.
fn allZero(bytes: []const u8) bool {
    const Lane = @Vector(16, u8);
    const zero: Lane = @splat(0);
    var i: usize = 0;
    while (i + 64 <= bytes.len) : (i += 64) {
        const p: *align(1) const [4][16]u8 = @ptrCast(bytes[i..].ptr);
        const acc = @as(Lane, p[0]) | @as(Lane, p[1]) | @as(Lane, p[2]) | @as(Lane, p[3]);
        if (@reduce(.Or, acc != zero)) return false;
    }
    while (i < bytes.len) : (i += 1) {
        if (bytes[i] != 0) return false;
    }
    return true;
}

const UstarName = struct { name: []const u8, prefix: []const u8 };

/// ustar stores a path as prefix (<= 155 bytes) + '/' + name (<= 100 bytes).
/// The leftmost usable '/' is taken, which gives the longest name part.
fn splitUstarName(path: []const u8) ?UstarName {
    if (path.len <= 100) return .{ .name = path, .prefix = "" };
    for (path, 0..) |c, i| {
        if (c != '/') continue;
        if (i > 155) return null;
        const name = path[i + 1 ..];
        if (name.len == 0) return null;
        if (name.len <= 100) return .{ .name = name, .prefix = path[0..i] };
    }
    return null;
}

/// The ustar name field of an entry whose real path travels in a PAX record:
/// a truncated copy, so tools that ignore PAX still show something recognisable.
fn fallbackName(path: []const u8) UstarName {
    return .{ .name = path[0..@min(path.len, 100)], .prefix = "" };
}

fn writeOctal(field: []u8, value: u64) void {
    // width-1 octal digits, zero padded, then NUL
    var v = value;
    var i: usize = field.len - 1;
    field[i] = 0;
    while (i > 0) {
        i -= 1;
        field[i] = '0' + @as(u8, @intCast(v & 7));
        v >>= 3;
    }
}

fn writeUstar(block: *[BLOCK]u8, name: UstarName, typeflag: u8, mode: u32, size: u64, link: []const u8) void {
    @memset(block, 0);
    @memcpy(block[0..name.name.len], name.name);
    writeOctal(block[100..108], mode);
    writeOctal(block[108..116], 0); // uid
    writeOctal(block[116..124], 0); // gid
    writeOctal(block[124..136], size);
    writeOctal(block[136..148], 0); // mtime
    block[156] = typeflag;
    @memcpy(block[157..][0..link.len], link);
    @memcpy(block[257..263], "ustar\x00");
    @memcpy(block[263..265], "00");
    // uname/gname stay empty
    writeOctal(block[329..337], 0); // devmajor
    writeOctal(block[337..345], 0); // devminor
    @memcpy(block[345..][0..name.prefix.len], name.prefix);

    @memset(block[148..156], ' ');
    var sum: u32 = 0;
    for (block) |b| sum += b;
    writeOctal(block[148..155], sum);
    block[155] = ' ';
}

fn decimal(buf: *[20]u8, value: u64) []const u8 {
    return std.fmt.bufPrint(buf, "{d}", .{value}) catch unreachable;
}

fn digitCount(n: u64) usize {
    var d: usize = 1;
    var v = n;
    while (v >= 10) : (v /= 10) d += 1;
    return d;
}

/// A PAX record is "<len> <key>=<value>\n" where <len> counts the whole record,
/// its own digits included.
fn recordLength(key_len: usize, value_len: usize) usize {
    const body = 1 + key_len + 1 + value_len + 1;
    var total = body + digitCount(body);
    if (digitCount(total) != digitCount(body)) total = body + digitCount(total);
    return total;
}

fn writeRecordParts(out: []u8, key_parts: []const []const u8, value: []const u8) usize {
    var key_len: usize = 0;
    for (key_parts) |p| key_len += p.len;
    const len = recordLength(key_len, value.len);
    var digits: [20]u8 = undefined;
    const d = decimal(&digits, len);
    var w: usize = 0;
    @memcpy(out[w..][0..d.len], d);
    w += d.len;
    out[w] = ' ';
    w += 1;
    for (key_parts) |p| {
        @memcpy(out[w..][0..p.len], p);
        w += p.len;
    }
    out[w] = '=';
    w += 1;
    @memcpy(out[w..][0..value.len], value);
    w += value.len;
    out[w] = '\n';
    w += 1;
    std.debug.assert(w == len);
    return w;
}

fn writeRecord(out: []u8, key: []const u8, value: []const u8) usize {
    return writeRecordParts(out, &.{key}, value);
}

const XATTR_PREFIX = "SCHILY.xattr.";

fn writeXattrRecord(out: []u8, key: []const u8, value: []const u8) usize {
    return writeRecordParts(out, &.{ XATTR_PREFIX, key }, value);
}

const Xattr = struct { key: []const u8, value: []const u8 };

const XattrIter = struct {
    rest: []const u8,

    fn take(self: *XattrIter) Error![]const u8 {
        if (self.rest.len < 4) return Error.BadXattrs;
        const n = std.mem.readInt(u32, self.rest[0..4], .little);
        if (self.rest.len - 4 < n) return Error.BadXattrs;
        const s = self.rest[4..][0..n];
        self.rest = self.rest[4 + n ..];
        return s;
    }

    fn next(self: *XattrIter) Error!?Xattr {
        if (self.rest.len == 0) return null;
        const key = try self.take();
        const value = try self.take();
        // '=' and NUL cannot appear in a PAX key; an empty key is meaningless.
        if (key.len == 0 or std.mem.indexOfAny(u8, key, "=\x00") != null) return Error.BadXattrs;
        return .{ .key = key, .value = value };
    }
};

fn paxLength(path: []const u8, link: []const u8, size: u64, needs_path: bool, needs_link: bool, needs_size: bool, xattrs: []const u8) Error!usize {
    var n: usize = 0;
    if (needs_link) n += recordLength("linkpath".len, link.len);
    if (needs_path) n += recordLength("path".len, path.len);
    if (needs_size) n += recordLength("size".len, digitCount(size));
    var it = XattrIter{ .rest = xattrs };
    while (try it.next()) |x| n += recordLength(XATTR_PREFIX.len + x.key.len, x.value.len);
    return n;
}

test "pax record length counts its own digits" {
    // "8 a=bcd\n": a 7-byte body plus one digit
    try std.testing.expectEqual(@as(usize, 8), recordLength(1, 3));
    // a 99-byte body plus two digits is 101, which needs three: 102
    try std.testing.expectEqual(@as(usize, 102), recordLength(1, 95));
}

test "ustar split prefers a name part that fits" {
    const p = "a" ** 120 ++ "/" ++ "b" ** 50;
    const s = splitUstarName(p).?;
    try std.testing.expectEqualStrings("b" ** 50, s.name);
}
