/**
 * A tiny ONNX model with the signature of a Piper voice (input int64[1,N], input_lengths int64[1],
 * scales float32[3] → output float32[1,1,1,256·N]), written with a minimal protobuf encoder. No real voice
 * can be downloaded here; this model lets the tests run the Piper engine's inference path end to end
 * (tensor types, input names, output handling, resampling): each phoneme id becomes 256 samples of
 * sin(id), so the output length proves which ids went in.
 */

export const FAKE_SAMPLES_PER_ID = 256;

type Field = [number, 'varint', number] | [number, 'bytes', Uint8Array | string];

function varint(value: number): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, BigInt(value));
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

function message(fields: Field[]): Uint8Array {
  const bytes: number[] = [];
  for (const [num, kind, value] of fields) {
    if (kind === 'varint') {
      bytes.push(...varint((num << 3) | 0), ...varint(value));
    } else {
      const data = typeof value === 'string' ? new TextEncoder().encode(value) : value;
      bytes.push(...varint((num << 3) | 2), ...varint(data.length), ...data);
    }
  }
  return Uint8Array.from(bytes);
}

const FLOAT = 1;
const INT64 = 7;

function valueInfo(name: string, elemType: number, dims: (number | string)[]): Uint8Array {
  const shape = message(
    dims.map((d) => [1, 'bytes', message(typeof d === 'number' ? [[1, 'varint', d]] : [[2, 'bytes', d]])]),
  );
  const tensorType = message([
    [1, 'varint', elemType],
    [2, 'bytes', shape],
  ]);
  return message([
    [1, 'bytes', name],
    [2, 'bytes', message([[1, 'bytes', tensorType]])],
  ]);
}

function int64Initializer(name: string, values: number[]): Uint8Array {
  const raw = new Uint8Array(values.length * 8);
  const view = new DataView(raw.buffer);
  for (const [i, v] of values.entries()) view.setBigInt64(i * 8, BigInt(v), true);
  return message([
    [1, 'varint', values.length],
    [2, 'varint', INT64],
    [8, 'bytes', name],
    [9, 'bytes', raw],
  ]);
}

function node(op: string, inputs: string[], outputs: string[], attrs: [string, number][] = []): Uint8Array {
  return message([
    ...inputs.map((i): Field => [1, 'bytes', i]),
    ...outputs.map((o): Field => [2, 'bytes', o]),
    [3, 'bytes', `${op}_${outputs[0]}`],
    [4, 'bytes', op],
    ...attrs.map(
      ([name, value]): Field => [
        5,
        'bytes',
        message([
          [1, 'bytes', name],
          [3, 'varint', value],
          [20, 'varint', 2],
        ]),
      ],
    ),
  ]);
}

/** The bytes of the fake voice's .onnx file. */
export function fakePiperVoiceModel(): Uint8Array {
  const graph = message([
    [1, 'bytes', node('Cast', ['input'], ['ids_f'], [['to', FLOAT]])],
    [1, 'bytes', node('Sin', ['ids_f'], ['wave'])],
    [1, 'bytes', node('Reshape', ['wave', 'shape4'], ['wave4'])],
    [1, 'bytes', node('Tile', ['wave4', 'repeats'], ['output'])],
    [2, 'bytes', 'fake_piper_voice'],
    [5, 'bytes', int64Initializer('shape4', [1, 1, 1, -1])],
    [5, 'bytes', int64Initializer('repeats', [1, 1, 1, FAKE_SAMPLES_PER_ID])],
    [11, 'bytes', valueInfo('input', INT64, [1, 'phonemes'])],
    [11, 'bytes', valueInfo('input_lengths', INT64, [1])],
    [11, 'bytes', valueInfo('scales', FLOAT, [3])],
    [12, 'bytes', valueInfo('output', FLOAT, [1, 1, 1, 'time'])],
  ]);
  return message([
    [1, 'varint', 7],
    [2, 'bytes', 'otklik-test'],
    [7, 'bytes', graph],
    [
      8,
      'bytes',
      message([
        [1, 'bytes', ''],
        [2, 'varint', 13],
      ]),
    ],
  ]);
}
