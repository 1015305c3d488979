throw new Error('ref-napi is stubbed out: Otklik loads libvosk.so through koffi (speech/asr/vosk)');
