//! BLAKE3 (hash, keyed hash, derive key, extendable output).
//!
//! Full 1 KiB chunks are compressed four at a time with 128-bit vectors: each
//! vector lane carries the same state word of a different chunk, which is the
//! layout that maps onto wasm SIMD128 without shuffles inside the rounds.
//! Everything else (partial chunks, parents, root output) is scalar.

const std = @import("std");

pub const OUT_LEN = 32;
pub const KEY_LEN = 32;
pub const BLOCK_LEN = 64;
pub const CHUNK_LEN = 1024;

const CHUNK_START: u32 = 1 << 0;
const CHUNK_END: u32 = 1 << 1;
const PARENT: u32 = 1 << 2;
const ROOT: u32 = 1 << 3;
const KEYED_HASH: u32 = 1 << 4;
const DERIVE_KEY_CONTEXT: u32 = 1 << 5;
const DERIVE_KEY_MATERIAL: u32 = 1 << 6;

const IV = [8]u32{
    0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
    0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19,
};

const MSG_PERMUTATION = [16]u8{ 2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8 };

/// Message word order for each of the 7 rounds, derived from the permutation
/// so the table cannot drift from the specification.
const SCHEDULE: [7][16]u8 = blk: {
    var s: [7][16]u8 = undefined;
    for (0..16) |i| s[0][i] = @intCast(i);
    for (1..7) |r| {
        for (0..16) |i| s[r][i] = s[r - 1][MSG_PERMUTATION[i]];
    }
    break :blk s;
};

// ---------------------------------------------------------------- scalar

inline fn rotr(x: u32, comptime n: u5) u32 {
    return std.math.rotr(u32, x, n);
}

inline fn g(v: *[16]u32, a: usize, b: usize, c: usize, d: usize, x: u32, y: u32) void {
    v[a] = v[a] +% v[b] +% x;
    v[d] = rotr(v[d] ^ v[a], 16);
    v[c] = v[c] +% v[d];
    v[b] = rotr(v[b] ^ v[c], 12);
    v[a] = v[a] +% v[b] +% y;
    v[d] = rotr(v[d] ^ v[a], 8);
    v[c] = v[c] +% v[d];
    v[b] = rotr(v[b] ^ v[c], 7);
}

fn compress(cv: *const [8]u32, block: *const [16]u32, counter: u64, block_len: u32, flags: u32) [16]u32 {
    var v = [16]u32{
        cv[0],                  cv[1],                         cv[2], cv[3],
        cv[4],                  cv[5],                         cv[6], cv[7],
        IV[0],                  IV[1],                         IV[2], IV[3],
        @truncate(counter),     @truncate(counter >> 32), block_len, flags,
    };
    inline for (0..7) |r| {
        const s = SCHEDULE[r];
        g(&v, 0, 4, 8, 12, block[s[0]], block[s[1]]);
        g(&v, 1, 5, 9, 13, block[s[2]], block[s[3]]);
        g(&v, 2, 6, 10, 14, block[s[4]], block[s[5]]);
        g(&v, 3, 7, 11, 15, block[s[6]], block[s[7]]);
        g(&v, 0, 5, 10, 15, block[s[8]], block[s[9]]);
        g(&v, 1, 6, 11, 12, block[s[10]], block[s[11]]);
        g(&v, 2, 7, 8, 13, block[s[12]], block[s[13]]);
        g(&v, 3, 4, 9, 14, block[s[14]], block[s[15]]);
    }
    for (0..8) |i| {
        v[i] ^= v[i + 8];
        v[i + 8] ^= cv[i];
    }
    return v;
}

inline fn loadWords(comptime n: usize, bytes: *const [n * 4]u8) [n]u32 {
    var w: [n]u32 = undefined;
    inline for (0..n) |i| w[i] = std.mem.readInt(u32, bytes[i * 4 ..][0..4], .little);
    return w;
}

inline fn first8(v: [16]u32) [8]u32 {
    return v[0..8].*;
}

// ---------------------------------------------------------------- 4-lane

const V = @Vector(4, u32);

const Bytes16 = @Vector(16, u8);

fn byteRotationMask(comptime k: usize) @Vector(16, i32) {
    var mask: [16]i32 = undefined;
    for (0..4) |w| {
        for (0..4) |b| mask[w * 4 + b] = @intCast(w * 4 + (b + k) % 4);
    }
    return mask;
}

const ROTR8_MASK = byteRotationMask(1);
const ROTR16_MASK = byteRotationMask(2);

/// Rotations by whole bytes are a single i8x16.shuffle; the others need two shifts and an or.
inline fn vrotr(x: V, comptime n: u5) V {
    if (n == 16 or n == 8) {
        const bytes: Bytes16 = @bitCast(x);
        return @bitCast(@shuffle(u8, bytes, undefined, if (n == 16) ROTR16_MASK else ROTR8_MASK));
    }
    return (x >> @splat(n)) | (x << @splat(@as(u5, @intCast(32 - @as(u6, n)))));
}

/// Rotation right by 7 as a rotation by 8 (one byte shuffle) followed by a
/// rotation left by 1, written as y + y + (sign bit of y) with a compare
/// against zero. JSC lowers every constant vector shift to four instructions
/// (the count goes through a general register into an XMM register), so this
/// form, without shifts, is cheaper there. `z` must be an all-zero vector that
/// LLVM cannot see through; otherwise it folds the compare and the doubling
/// back into shifts. (JSC does see it is zero and drops the `^ z`.)
inline fn vrotr7(x: V, z: V) V {
    const y = vrotr(x, 8);
    const I = @Vector(4, i32);
    const neg: V = @bitCast(-@as(I, @intFromBool(@as(I, @bitCast(z)) > @as(I, @bitCast(y)))));
    return (y -% neg) +% (y ^ z);
}

inline fn vg(v: *[16]V, comptime a: usize, comptime b: usize, comptime c: usize, comptime d: usize, x: V, y: V, z: V) void {
    v[a] = v[a] +% v[b] +% x;
    v[d] = vrotr(v[d] ^ v[a], 16);
    v[c] = v[c] +% v[d];
    v[b] = vrotr(v[b] ^ v[c], 12);
    v[a] = v[a] +% v[b] +% y;
    v[d] = vrotr(v[d] ^ v[a], 8);
    v[c] = v[c] +% v[d];
    v[b] = vrotr7(v[b] ^ v[c], z);
}

inline fn load4(p: [*]const u8) V {
    const words: *align(1) const [4]u32 = @ptrCast(p);
    return words.*;
}

/// Rows a,b,c,d (one per chunk) become columns: out[i] = {a[i], b[i], c[i], d[i]}.
inline fn transpose(a: V, b: V, c: V, d: V) [4]V {
    const ab_lo = @shuffle(u32, a, b, @Vector(4, i32){ 0, ~@as(i32, 0), 1, ~@as(i32, 1) });
    const ab_hi = @shuffle(u32, a, b, @Vector(4, i32){ 2, ~@as(i32, 2), 3, ~@as(i32, 3) });
    const cd_lo = @shuffle(u32, c, d, @Vector(4, i32){ 0, ~@as(i32, 0), 1, ~@as(i32, 1) });
    const cd_hi = @shuffle(u32, c, d, @Vector(4, i32){ 2, ~@as(i32, 2), 3, ~@as(i32, 3) });
    return .{
        @shuffle(u32, ab_lo, cd_lo, @Vector(4, i32){ 0, 1, ~@as(i32, 0), ~@as(i32, 1) }),
        @shuffle(u32, ab_lo, cd_lo, @Vector(4, i32){ 2, 3, ~@as(i32, 2), ~@as(i32, 3) }),
        @shuffle(u32, ab_hi, cd_hi, @Vector(4, i32){ 0, 1, ~@as(i32, 0), ~@as(i32, 1) }),
        @shuffle(u32, ab_hi, cd_hi, @Vector(4, i32){ 2, 3, ~@as(i32, 2), ~@as(i32, 3) }),
    };
}

/// Compresses four independent inputs in lockstep, lane k reading `n_blocks`
/// blocks at `input + k * stride`, and writes the four resulting chaining
/// values to `out` (which may overlap the input: everything is read first).
/// Serves both full chunks (stride CHUNK_LEN, 16 blocks) and parent nodes
/// (stride BLOCK_LEN, one block of two concatenated child CVs).
///
/// Kept out of line on purpose: one hot function that JSC's optimizing tier
/// compiles once, instead of copies inlined into every caller.
noinline fn hash4(
    input: [*]const u8,
    stride: usize,
    n_blocks: usize,
    key: *const [8]u32,
    ctr_lo: V,
    ctr_hi: V,
    flags: u32,
    start_flag: u32,
    end_flag: u32,
    out: *[4][8]u32,
) void {
    var cv: [8]V = undefined;
    for (0..8) |i| cv[i] = @splat(key[i]);
    // Zero that LLVM cannot constant-fold; see vrotr7.
    var zero_slot: V = @splat(0);
    const z = @as(*volatile V, &zero_slot).*;

    var block: usize = 0;
    while (block < n_blocks) : (block += 1) {
        var m: [16]V = undefined;
        const off = block * BLOCK_LEN;
        inline for (0..4) |grp| {
            const t = transpose(
                load4(input + 0 * stride + off + grp * 16),
                load4(input + 1 * stride + off + grp * 16),
                load4(input + 2 * stride + off + grp * 16),
                load4(input + 3 * stride + off + grp * 16),
            );
            inline for (0..4) |k| m[grp * 4 + k] = t[k];
        }
        var block_flags = flags;
        if (block == 0) block_flags |= start_flag;
        if (block == n_blocks - 1) block_flags |= end_flag;

        var v = [16]V{
            cv[0],             cv[1],             cv[2],                 cv[3],
            cv[4],             cv[5],             cv[6],                 cv[7],
            @splat(IV[0]),     @splat(IV[1]),     @splat(IV[2]),         @splat(IV[3]),
            ctr_lo,            ctr_hi,            @splat(@as(u32, BLOCK_LEN)), @splat(block_flags),
        };
        // The message words are written out once per block in the order each
        // round consumes them and the rounds run as a real loop indexed at run
        // time. Unrolled rounds let LLVM and then JSC keep all 16 message
        // vectors live in registers next to the 16 state vectors; JSC's
        // register allocator then spilled the state instead (nearly every
        // operation went through the stack). Loading each word where it is
        // used, as the native SSE4.1 code does, made hashing about 1.7x faster
        // in Bun. (A volatile buffer is not enough: LLVM hoists the loads.)
        var msched: [7][16]V = undefined;
        inline for (0..7) |rr| {
            inline for (0..16) |i| msched[rr][i] = m[SCHEDULE[rr][i]];
        }
        var r: usize = 0;
        while (r < 7) : (r += 1) {
            const mr = &msched[r];
            vg(&v, 0, 4, 8, 12, mr[0], mr[1], z);
            vg(&v, 1, 5, 9, 13, mr[2], mr[3], z);
            vg(&v, 2, 6, 10, 14, mr[4], mr[5], z);
            vg(&v, 3, 7, 11, 15, mr[6], mr[7], z);
            vg(&v, 0, 5, 10, 15, mr[8], mr[9], z);
            vg(&v, 1, 6, 11, 12, mr[10], mr[11], z);
            vg(&v, 2, 7, 8, 13, mr[12], mr[13], z);
            vg(&v, 3, 4, 9, 14, mr[14], mr[15], z);
        }
        inline for (0..8) |i| cv[i] = v[i] ^ v[i + 8];
    }

    inline for (0..4) |lane| {
        inline for (0..8) |i| out[lane][i] = cv[i][lane];
    }
}

/// Chaining values of four consecutive full chunks starting at `input`,
/// the first of which has index `counter`. None of them may be the root.
fn hash4Chunks(input: [*]const u8, key: *const [8]u32, counter: u64, flags: u32, out: *[4][8]u32) void {
    const counters = [4]u64{ counter, counter + 1, counter + 2, counter + 3 };
    const ctr_lo = V{ @truncate(counters[0]), @truncate(counters[1]), @truncate(counters[2]), @truncate(counters[3]) };
    const ctr_hi = V{ @truncate(counters[0] >> 32), @truncate(counters[1] >> 32), @truncate(counters[2] >> 32), @truncate(counters[3] >> 32) };
    hash4(input, CHUNK_LEN, CHUNK_LEN / BLOCK_LEN, key, ctr_lo, ctr_hi, flags, CHUNK_START, CHUNK_END, out);
}

/// Largest subtree hashed in one go by `subtreeWide`, in chunks.
const WIDE_CHUNKS = 64;

/// Chaining value of the complete subtree of `n` chunks at `input` (a power of
/// two, 8 <= n <= WIDE_CHUNKS), the first chunk having index `counter`. Never
/// the root. Parents are compressed four at a time with the chunk kernel:
/// compressed one by one in scalar code they took about a sixth of the time.
fn subtreeWide(input: [*]const u8, n: usize, key: *const [8]u32, counter: u64, flags: u32) [8]u32 {
    std.debug.assert(n >= 8 and n <= WIDE_CHUNKS and n & (n - 1) == 0);
    var cvs: [WIDE_CHUNKS][8]u32 = undefined;
    var i: usize = 0;
    while (i < n) : (i += 4) hash4Chunks(input + i * CHUNK_LEN, key, counter + i, flags, cvs[i..][0..4]);
    const zero: V = @splat(0);
    var len = n;
    // In place: the group writing cvs[j..j+4] has read cvs[2j..2j+8], and
    // every earlier group only read below that.
    while (len >= 8) : (len /= 2) {
        var j: usize = 0;
        while (j < len / 2) : (j += 4) {
            hash4(@ptrCast(&cvs[2 * j]), BLOCK_LEN, 1, key, zero, zero, flags | PARENT, 0, 0, cvs[j..][0..4]);
        }
    }
    while (len > 1) : (len /= 2) {
        for (0..len / 2) |j| cvs[j] = parentOutput(cvs[2 * j], cvs[2 * j + 1], key, flags).chainingValue();
    }
    return cvs[0];
}

/// The size of the subtree `subtreeWide` should take at chunk `counter` with
/// `available` bytes of input left, or 0 to go four chunks at a time instead.
/// The subtree must be aligned and be followed by more input (it is not the root).
fn wideRun(counter: u64, available: usize) usize {
    var n: usize = WIDE_CHUNKS;
    while (n >= 8) : (n /= 2) {
        if (counter % n == 0 and available > n * CHUNK_LEN) return n;
    }
    return 0;
}

// ---------------------------------------------------------------- tree

const Output = struct {
    cv: [8]u32,
    block: [16]u32,
    counter: u64,
    block_len: u32,
    flags: u32,

    fn chainingValue(self: *const Output) [8]u32 {
        return first8(compress(&self.cv, &self.block, self.counter, self.block_len, self.flags));
    }

    fn rootBytes(self: *const Output, out: []u8) void {
        var block_counter: u64 = 0;
        var pos: usize = 0;
        while (pos < out.len) : (block_counter += 1) {
            const words = compress(&self.cv, &self.block, block_counter, self.block_len, self.flags | ROOT);
            var bytes: [64]u8 = undefined;
            for (0..16) |i| std.mem.writeInt(u32, bytes[i * 4 ..][0..4], words[i], .little);
            const take = @min(64, out.len - pos);
            @memcpy(out[pos..][0..take], bytes[0..take]);
            pos += take;
        }
    }
};

fn parentOutput(left: [8]u32, right: [8]u32, key: *const [8]u32, flags: u32) Output {
    var block: [16]u32 = undefined;
    @memcpy(block[0..8], &left);
    @memcpy(block[8..16], &right);
    return .{ .cv = key.*, .block = block, .counter = 0, .block_len = BLOCK_LEN, .flags = flags | PARENT };
}

const ChunkState = struct {
    cv: [8]u32,
    counter: u64,
    buf: [BLOCK_LEN]u8 = undefined,
    buf_len: u32 = 0,
    blocks_done: u32 = 0,
    flags: u32,

    fn init(key: *const [8]u32, counter: u64, flags: u32) ChunkState {
        return .{ .cv = key.*, .counter = counter, .flags = flags };
    }

    fn len(self: *const ChunkState) usize {
        return @as(usize, self.blocks_done) * BLOCK_LEN + self.buf_len;
    }

    fn startFlag(self: *const ChunkState) u32 {
        return if (self.blocks_done == 0) CHUNK_START else 0;
    }

    fn update(self: *ChunkState, input_in: []const u8) void {
        var input = input_in;
        while (input.len > 0) {
            // A full buffer is compressed only once more input proves it is not the last block.
            if (self.buf_len == BLOCK_LEN) {
                const words = loadWords(16, &self.buf);
                self.cv = first8(compress(&self.cv, &words, self.counter, BLOCK_LEN, self.flags | self.startFlag()));
                self.blocks_done += 1;
                self.buf_len = 0;
            }
            // Whole blocks straight from the input, still keeping the final one back.
            while (self.buf_len == 0 and input.len > BLOCK_LEN) {
                const words = loadWords(16, input[0..BLOCK_LEN]);
                self.cv = first8(compress(&self.cv, &words, self.counter, BLOCK_LEN, self.flags | self.startFlag()));
                self.blocks_done += 1;
                input = input[BLOCK_LEN..];
            }
            const take = @min(BLOCK_LEN - self.buf_len, input.len);
            @memcpy(self.buf[self.buf_len..][0..take], input[0..take]);
            self.buf_len += @intCast(take);
            input = input[take..];
        }
    }

    fn output(self: *const ChunkState) Output {
        var block_bytes = [_]u8{0} ** BLOCK_LEN;
        @memcpy(block_bytes[0..self.buf_len], self.buf[0..self.buf_len]);
        return .{
            .cv = self.cv,
            .block = loadWords(16, &block_bytes),
            .counter = self.counter,
            .block_len = self.buf_len,
            .flags = self.flags | self.startFlag() | CHUNK_END,
        };
    }
};

pub const Hasher = struct {
    key: [8]u32,
    flags: u32,
    chunk: ChunkState,
    stack: [54][8]u32 = undefined,
    stack_len: u8 = 0,

    fn withKey(key: [8]u32, flags: u32) Hasher {
        return .{ .key = key, .flags = flags, .chunk = ChunkState.init(&key, 0, flags) };
    }

    pub fn init() Hasher {
        return withKey(IV, 0);
    }

    pub fn initKeyed(key: *const [KEY_LEN]u8) Hasher {
        return withKey(loadWords(8, key), KEYED_HASH);
    }

    pub fn initDeriveKey(context: []const u8) Hasher {
        var ctx = withKey(IV, DERIVE_KEY_CONTEXT);
        ctx.update(context);
        var key_bytes: [KEY_LEN]u8 = undefined;
        ctx.finalize(&key_bytes);
        return withKey(loadWords(8, &key_bytes), DERIVE_KEY_MATERIAL);
    }

    pub fn reset(self: *Hasher) void {
        self.chunk = ChunkState.init(&self.key, 0, self.flags);
        self.stack_len = 0;
    }

    /// Merges every subtree that `total_chunks` completes; see the BLAKE3 paper, section 5.1.2.
    fn pushChunkCv(self: *Hasher, cv_in: [8]u32, total_chunks_in: u64) void {
        var cv = cv_in;
        var total_chunks = total_chunks_in;
        while (total_chunks & 1 == 0) {
            self.stack_len -= 1;
            cv = parentOutput(self.stack[self.stack_len], cv, &self.key, self.flags).chainingValue();
            total_chunks >>= 1;
        }
        self.stack[self.stack_len] = cv;
        self.stack_len += 1;
    }

    /// Appends a complete subtree of `n_chunks` chunks (a power of two) given by
    /// its chaining value. The hasher must sit at a chunk boundary that is a
    /// multiple of `n_chunks`, with every earlier byte also pushed as such
    /// subtrees, and more input must follow (a merged node is never the root).
    pub fn pushSubtree(self: *Hasher, cv: [8]u32, n_chunks: u64) bool {
        if (self.chunk.len() != 0 or n_chunks == 0 or n_chunks & (n_chunks - 1) != 0) return false;
        if (self.chunk.counter % n_chunks != 0) return false;
        self.pushAlignedCv(cv, self.chunk.counter, n_chunks);
        self.chunk = ChunkState.init(&self.key, self.chunk.counter + n_chunks, self.flags);
        return true;
    }

    /// Stack half of pushSubtree: `cv` covers `n_chunks` chunks (a power of
    /// two) from chunk `start`, a multiple of `n_chunks`.
    fn pushAlignedCv(self: *Hasher, cv: [8]u32, start: u64, n_chunks: u64) void {
        const level: u6 = @intCast(@ctz(n_chunks));
        var merged = cv;
        var units = (start + n_chunks) >> level;
        while (units & 1 == 0) {
            self.stack_len -= 1;
            merged = parentOutput(self.stack[self.stack_len], merged, &self.key, self.flags).chainingValue();
            units >>= 1;
        }
        self.stack[self.stack_len] = merged;
        self.stack_len += 1;
    }

    pub fn update(self: *Hasher, input_in: []const u8) void {
        var input = input_in;
        while (input.len > 0) {
            if (self.chunk.len() == CHUNK_LEN) {
                const next = self.chunk.counter + 1;
                self.pushChunkCv(self.chunk.output().chainingValue(), next);
                self.chunk = ChunkState.init(&self.key, next, self.flags);
            }
            if (self.chunk.len() == 0) {
                // Only chunks followed by more input can be hashed eagerly: the last one may be the root.
                var counter = self.chunk.counter;
                while (input.len > 4 * CHUNK_LEN) {
                    const n = wideRun(counter, input.len);
                    if (n != 0) {
                        const cv = subtreeWide(input.ptr, n, &self.key, counter, self.flags);
                        self.pushAlignedCv(cv, counter, n);
                        counter += n;
                        input = input[n * CHUNK_LEN ..];
                        continue;
                    }
                    var cvs: [4][8]u32 = undefined;
                    hash4Chunks(input.ptr, &self.key, counter, self.flags, &cvs);
                    inline for (0..4) |lane| self.pushChunkCv(cvs[lane], counter + lane + 1);
                    counter += 4;
                    input = input[4 * CHUNK_LEN ..];
                }
                while (input.len > CHUNK_LEN) {
                    var cs = ChunkState.init(&self.key, counter, self.flags);
                    cs.update(input[0..CHUNK_LEN]);
                    self.pushChunkCv(cs.output().chainingValue(), counter + 1);
                    counter += 1;
                    input = input[CHUNK_LEN..];
                }
                self.chunk = ChunkState.init(&self.key, counter, self.flags);
            }
            const take = @min(CHUNK_LEN - self.chunk.len(), input.len);
            self.chunk.update(input[0..take]);
            input = input[take..];
        }
    }

    /// Extendable output; does not change the hasher, so more input may follow.
    pub fn finalize(self: *const Hasher, out: []u8) void {
        var output = self.chunk.output();
        var remaining = self.stack_len;
        while (remaining > 0) {
            remaining -= 1;
            output = parentOutput(self.stack[remaining], output.chainingValue(), &self.key, self.flags);
        }
        output.rootBytes(out);
    }
};

/// Chaining value of a complete subtree: `input` is a power-of-two number of
/// whole chunks, the first with index `counter` (a multiple of that number).
/// Never the root, so the caller must know more input follows or precedes it.
pub fn subtreeCv(input: []const u8, counter: u64) ?[8]u32 {
    if (input.len == 0 or input.len % CHUNK_LEN != 0) return null;
    const n_chunks: usize = input.len / CHUNK_LEN;
    if (n_chunks & (n_chunks - 1) != 0 or counter % n_chunks != 0) return null;
    var h = Hasher.init();
    // Lay out the chunks as if they were pushed one by one from `counter`;
    // relative counting gives the same merge shape because the start is aligned.
    var i: usize = 0;
    while (i < n_chunks) {
        if (n_chunks >= 8) {
            const n = @min(n_chunks, WIDE_CHUNKS);
            const cv = subtreeWide(input.ptr + i * CHUNK_LEN, n, &h.key, counter + i, h.flags);
            h.pushAlignedCv(cv, i, n);
            i += n;
        } else if (n_chunks - i >= 4) {
            var cvs: [4][8]u32 = undefined;
            hash4Chunks(input.ptr + i * CHUNK_LEN, &h.key, counter + i, h.flags, &cvs);
            inline for (0..4) |lane| h.pushChunkCv(cvs[lane], i + lane + 1);
            i += 4;
        } else {
            var cs = ChunkState.init(&h.key, counter + i, h.flags);
            cs.update(input[i * CHUNK_LEN ..][0..CHUNK_LEN]);
            h.pushChunkCv(cs.output().chainingValue(), i + 1);
            i += 1;
        }
    }
    std.debug.assert(h.stack_len == 1);
    return h.stack[0];
}

pub fn hash(input: []const u8, out: *[OUT_LEN]u8) void {
    var h = Hasher.init();
    h.update(input);
    h.finalize(out);
}
