// The page in English and Japanese. t(key, params) is a string in the chosen language;
// elements of index.html name theirs: data-i18n="key" (text), data-i18n-html (markup written
// in this file only), data-i18n-placeholder and data-i18n-aria-label (attributes).
// The first language is the one remembered in localStorage, else the browser's, else English.

const STRINGS = {
  en: {
    'lang.label': 'Language',
    'tab.descent': 'Descent',
    'tab.network': 'Network',
    'tab.digits': 'Digits',
    'server.down': 'server not reachable',
    'server.noAnswer': 'the lab server does not answer: is `zerodl lab` still running?',
    foot: 'zerodl lab · deep learning from zero, on NumPy',
    'chart.step': 'step',

    'descent.intro': 'Each optimizer walks downhill on <i>f</i>(<i>x</i>, <i>y</i>) from the same start. '
      + 'The arrows show −∇<i>f</i>, the direction of steepest descent; the lines are contours of equal '
      + 'height. <b>Click the map</b> to choose the start, then press <b>Run</b>.',
    'descent.mapLabel': 'contour map',
    'descent.chartLabel': 'f against step',
    'descent.chartTitle': 'f(x, y) after each step',
    'descent.logScale': '(log scale)',
    'descent.surface': 'Surface',
    'descent.function': 'Function',
    'descent.formula': '…or a formula in x and y',
    'descent.formulaPlaceholder': 'e.g. sin(x) * cos(y) + (x^2 + y^2)/10',
    'descent.plot': 'Plot',
    'descent.grammar': 'numbers, x, y, + − * / ^, ( ), exp log sin cos sqrt abs tanh, pi, e',
    'descent.start': 'Start',
    'descent.steps': 'steps',
    'descent.speed': 'speed',
    'descent.optimizers': 'Optimizers',
    'descent.run': 'Run',
    'descent.lr': 'learning rate',
    'descent.finalF': 'final f',
    'descent.yourFormula': 'your formula',
    'descent.readAs': 'read as {text}',
    'descent.typeFirst': 'type a formula in x and y first, e.g. x^2 + 3*y^2',
    'descent.idle': 'Click the map to move the start, then press Run.',
    'descent.notStarted': 'Not started: see the message above.',
    'descent.running': 'Running…',
    'descent.runningStep': 'Running… step {step} of {steps}',
    'descent.done': 'Done: {steps} steps.',
    'descent.lowest': ' Lowest f: {name} ({value}).',
    'descent.divergedCount': ' {count} diverged: try a smaller learning rate.',
    'descent.cut': 'The stream was cut: press Run again.',
    'descent.undefinedStart': 'f is not defined at the start',
    'descent.divergedAt': 'diverged at step {step}',
    'descent.legend': '{label} (lr {lr})',
    'speed.slow': 'slow',
    'speed.normal': 'normal',
    'speed.medium': 'medium',
    'speed.instant': 'instant',
    'speed.fast': 'fast',

    'network.intro': 'A small multi-layer network learns to tell the classes apart. The background is the '
      + 'network’s answer at every point (its class probabilities): watch the decision boundary bend while '
      + 'the loss falls.',
    'network.mapLabel': 'decision boundary',
    'network.chartLabel': 'loss and accuracy',
    'network.chartLoss': 'training loss',
    'network.chartAcc': 'and accuracy',
    'network.step': 'step',
    'network.epoch': 'epoch',
    'network.loss': 'loss',
    'network.accuracy': 'accuracy',
    'network.train': '▶ Train',
    'network.resume': '▶ Resume',
    'network.pause': '❚❚ Pause',
    'network.reset': '↺ Reset',
    'network.data': 'Data',
    'network.dataset': 'dataset',
    'network.noise': 'noise',
    'network.network': 'Network',
    'network.hidden': 'hidden layers (neurons each)',
    'network.activation': 'activation',
    'network.learning': 'Learning',
    'network.optimizer': 'optimizer',
    'network.lr': 'learning rate',
    'network.batch': 'batch size',
    'network.speed': 'speed',
    'network.class': 'class {k}',
    'network.running': 'Training…',
    'network.paused': 'Paused.',
    'network.ready': 'Ready: press Train.',
    'network.finished': 'Finished: the lab stops at {steps} steps.',
    'network.diverged': 'The loss became infinite: the learning rate is too large. Lower it and press Train.',
    'network.failed': 'Training failed: {error}',
    'network.stopped': 'Stopped ({reason}). Press Train to start again.',
    'network.disconnected': 'Disconnected from the server. Press Train to start again.',
    'dataset.spiral': 'spiral (3 classes)',
    'dataset.xor': 'xor',
    'dataset.circles': 'circles',
    'activation.relu': 'ReLU',

    'digits.intro': 'Draw a digit with the mouse or a finger. It is prepared the way MNIST’s digits were '
      + '(scaled into a 20×20 box, centred by its centre of mass in 28×28 pixels) and the network answers '
      + 'with a probability for each of the ten digits.',
    'digits.drawLabel': 'drawing pad',
    'digits.inputLabel': '28 by 28 input',
    'digits.clear': 'Clear',
    'digits.input': 'network input, 28×28',
    'digits.prediction': 'prediction',
    'digits.probabilities': 'probabilities',
    'digits.model': 'Model',
    'digits.looking': 'looking for a model…',
    'digits.train': 'Train an MLP on MNIST (1 epoch)',
    'digits.cliHint': 'Or train one from the command line and restart the lab:',
    'digits.cnnHint': 'This CNN was trained by zerodl train; an MLP trained here would replace it with a '
      + 'weaker model. To train another CNN, run this and restart the lab:',
    'digits.filters': 'first-layer filters',
    'digits.maps': 'their feature maps of your digit (after ReLU)',
    'digits.from': ' from {source}',
    'digits.trainedHere': ' trained in the lab ({n} digits, 1 epoch)',
    'digits.testAccuracy': 'test accuracy {value}%',
    'digits.none': 'No digit model yet. Train one here (MNIST needed, about half a minute) or from the '
      + 'command line.',
    'digits.noModel': 'No model yet: press Train, or start the lab with --model-dir.',
    'digits.loading': 'reading MNIST',
    'digits.step': 'step {step}/{total}, loss {loss}',
    'digits.measuring': 'measuring on the 10,000 test digits',
    'digits.done': 'test accuracy {value}% after {seconds} s',

  },

  ja: {
    'lang.label': '言語',
    'tab.descent': '勾配降下',
    'tab.network': 'ニューラルネット',
    'tab.digits': '手書き数字',
    'server.down': 'サーバーに接続できません',
    'server.noAnswer': 'ラボのサーバーが応答しません。`zerodl lab` はまだ動いていますか？',
    foot: 'zerodl lab · NumPy でゼロから作るディープラーニング',
    'chart.step': 'ステップ',

    'descent.intro': '各オプティマイザが同じ出発点から <i>f</i>(<i>x</i>, <i>y</i>) の坂を下ります。'
      + '矢印は最も急な下り方向 −∇<i>f</i>、線は高さの等しい等高線です。'
      + '<b>図をクリック</b>して出発点を選び、<b>実行</b>を押してください。',
    'descent.mapLabel': '等高線図',
    'descent.chartLabel': 'ステップごとの f',
    'descent.chartTitle': '各ステップ後の f(x, y)',
    'descent.logScale': '（対数目盛り）',
    'descent.surface': '曲面',
    'descent.function': '関数',
    'descent.formula': '…または x と y の式',
    'descent.formulaPlaceholder': '例: sin(x) * cos(y) + (x^2 + y^2)/10',
    'descent.plot': '描く',
    'descent.grammar': '使えるもの: 数、x、y、+ − * / ^、( )、exp log sin cos sqrt abs tanh、pi、e',
    'descent.start': '出発点',
    'descent.steps': 'ステップ数',
    'descent.speed': '速さ',
    'descent.optimizers': 'オプティマイザ',
    'descent.run': '実行',
    'descent.lr': '学習率',
    'descent.finalF': '最後の f',
    'descent.yourFormula': 'あなたの式',
    'descent.readAs': '読み取った式: {text}',
    'descent.typeFirst': 'まず x と y の式を入力してください（例: x^2 + 3*y^2）',
    'descent.idle': '図をクリックして出発点を動かし、実行を押してください。',
    'descent.notStarted': '開始できません。上のメッセージを見てください。',
    'descent.running': '実行中…',
    'descent.runningStep': '実行中… {step} / {steps} ステップ',
    'descent.done': '完了: {steps} ステップ。',
    'descent.lowest': ' f が最も小さいのは {name}（{value}）。',
    'descent.divergedCount': ' {count} 個が発散しました。学習率を小さくしてみてください。',
    'descent.cut': '通信が切れました。もう一度実行を押してください。',
    'descent.undefinedStart': '出発点で f が定義されていません',
    'descent.divergedAt': 'ステップ {step} で発散',
    'descent.legend': '{label}（学習率 {lr}）',
    'speed.slow': 'ゆっくり',
    'speed.normal': 'ふつう',
    'speed.medium': 'ふつう',
    'speed.instant': '一瞬',
    'speed.fast': '最速',

    'network.intro': '小さな多層ネットワークが、クラスを見分けることを学びます。背景は各点での'
      + 'ネットワークの答え（クラスの確率）です。損失が下がるにつれて決定境界が曲がっていく様子を見てください。',
    'network.mapLabel': '決定境界',
    'network.chartLabel': '損失と正解率',
    'network.chartLoss': '訓練データの損失',
    'network.chartAcc': 'と正解率',
    'network.step': 'ステップ',
    'network.epoch': 'エポック',
    'network.loss': '損失',
    'network.accuracy': '正解率',
    'network.train': '▶ 学習',
    'network.resume': '▶ 再開',
    'network.pause': '❚❚ 一時停止',
    'network.reset': '↺ リセット',
    'network.data': 'データ',
    'network.dataset': 'データセット',
    'network.noise': 'ノイズ',
    'network.network': 'ネットワーク',
    'network.hidden': '隠れ層（各層のニューロン数）',
    'network.activation': '活性化関数',
    'network.learning': '学習',
    'network.optimizer': 'オプティマイザ',
    'network.lr': '学習率',
    'network.batch': 'バッチサイズ',
    'network.speed': '速さ',
    'network.class': 'クラス {k}',
    'network.running': '学習中…',
    'network.paused': '一時停止中。',
    'network.ready': '準備完了: 学習を押してください。',
    'network.finished': '終了: ラボは {steps} ステップで止まります。',
    'network.diverged': '損失が無限大になりました。学習率が大きすぎます。下げてから学習を押してください。',
    'network.failed': '学習に失敗しました: {error}',
    'network.stopped': '停止しました（{reason}）。学習を押すと、もう一度始めます。',
    'network.disconnected': 'サーバーとの接続が切れました。学習を押すと、もう一度始めます。',
    'dataset.spiral': 'spiral（渦巻き、3 クラス）',
    'dataset.xor': 'xor（排他的論理和）',
    'dataset.circles': 'circles（同心円）',
    'reason.stopped by the page': 'ページが止めました',
    'reason.no page was watching': '見ているページがありませんでした',
    'reason.the lab server stopped': 'ラボのサーバーが止まりました',

    'digits.intro': 'マウスか指で数字を描いてください。MNIST の数字と同じように整えて（20×20 の枠に収まるよう'
      + '縮め、重心が 28×28 ピクセルの中央に来るように置いて）から、ネットワークが 0〜9 の各数字の確率を答えます。',
    'digits.drawLabel': '描画欄',
    'digits.inputLabel': '28×28 の入力',
    'digits.clear': '消す',
    'digits.input': 'ネットワークへの入力（28×28）',
    'digits.prediction': '予測',
    'digits.probabilities': '確率',
    'digits.model': 'モデル',
    'digits.looking': 'モデルを探しています…',
    'digits.train': 'MNIST で MLP を学習（1 エポック）',
    'digits.cliHint': 'コマンドラインで学習してから、ラボを起動し直すこともできます:',
    'digits.cnnHint': 'この CNN は zerodl train で学習したものです。ここで MLP を学習すると、より弱いモデルに'
      + '置き換わってしまいます。別の CNN を学習するには、次を実行してからラボを起動し直してください:',
    'digits.filters': '第 1 層のフィルタ',
    'digits.maps': 'あなたの数字に対する各フィルタの特徴マップ（ReLU の後）',
    'digits.from': '（{source} から読み込み）',
    'digits.trainedHere': '（ラボで学習: {n} 枚、1 エポック）',
    'digits.testAccuracy': 'テストデータの正解率 {value}%',
    'digits.none': '数字のモデルはまだありません。ここで学習する（MNIST が必要、30 秒ほど）か、'
      + 'コマンドラインで学習してください。',
    'digits.noModel': 'モデルがまだありません。学習ボタンを押すか、--model-dir を付けてラボを起動してください。',
    'digits.loading': 'MNIST を読み込み中',
    'digits.step': 'ステップ {step}/{total}、損失 {loss}',
    'digits.measuring': 'テスト用の 10,000 枚で正解率を測っています',
    'digits.done': '{seconds} 秒で完了、テストデータの正解率 {value}%',

    'err.range': '{lo} から {hi} までの値にしてください',
    'err.number': '数を入れてください',
    'err.whole': '整数を入れてください',
    'err.choice': '選べるものの中から選んでください',
    'err.missing': '値を入れてください',
    'err.pair': '2 つの数にしてください',
    'err.within': '{lo} から {hi} までの範囲にしてください',
    'err.order': '小さい方から大きい方の順にしてください',
    'err.formula': '式の {position} 文字目: {reason}',
    'err.nowhere': 'この範囲では f がどこでも有限の値になりません。式か範囲を変えてください',
    'err.tick': 'オプティマイザを 1 つ以上選んでください',
    'err.queue': 'このタブではすでに {count} 個のレースが開始を待っています。少し待ってから実行してください',
    'err.race': 'このレースは見つかりません（実行済みか期限切れです）。もう一度実行を押してください',
    'err.hidden': '隠れ層のニューロン数を 16, 16 のように整数とカンマで入れてください',
    'err.layers': '隠れ層は {lo} 層から {hi} 層までにしてください',
    'err.neurons': '各隠れ層のニューロン数は {lo} から {hi} までにしてください',
    'err.sessions': '学習セッションがすでに {count} 個動いています（ラボのタブ 1 つに 1 個）。ほかのタブを閉じてください',
    'err.stopped': 'この学習セッションは止まっています。学習を押すと、もう一度始めます',
    'err.busy': '学習はすでに進行中です',
    'err.data': 'MNIST が見つからず、ダウンロードもできませんでした。{error}',
    'err.cnn': 'CNN が読み込まれています。ここで MLP を学習すると、より弱いモデルに置き換わってしまいます',

    'formula.text': '式は文字列で送ってください',
    'formula.long': '式が長すぎます（{token} 文字まで）',
    'formula.empty': '式が空です',
    'formula.character': '使えない文字「{token}」があります',
    'formula.big': '数「{token}」が大きすぎます',
    'formula.name': '知らない名前「{token}」です（使えるのは x、y、pi、e と関数 exp log sin cos sqrt abs tanh）',
    'formula.unmatched': '対応する「(」のない「)」があります',
    'formula.operator': '「{token}」の前に演算子が必要です',
    'formula.multiply': '「{token}」の前に演算子が必要です。掛け算は 2*x のように * を書きます',
    'formula.parts': '式の要素が多すぎます（{token} 個まで）',
    'formula.deep': '括弧などの入れ子が深すぎます（{token} 段まで）',
    'formula.call': '{token} の引数は {token}(x) のように括弧で囲んでください',
    'formula.ends': '数、x、y または「(」が来るはずのところで式が終わっています',
    'formula.operand': '数、x、y または「(」が来るはずのところに「{token}」があります',
    'formula.unclosed': 'この「(」が閉じられていません',
    'formula.close': '「)」が来るはずのところに「{token}」があります',

    'fn.bowl': '丸いお椀: 勾配はまっすぐ最小点を指す（4.4 節）',
    'fn.elongated': '細長い谷: 本のオプティマイザ比較（6.1 節）。素の SGD はジグザグに進む',
    'fn.rosenbrock': 'バナナ形に曲がった谷: 見つけやすく、たどるのは遅い',
    'fn.himmelblau': '同じ深さの最小点が 4 つ: どこから出発するかで行き着く先が決まる',
    'fn.beale': '平らな台地と急な壁: 学習率が一定だと難しい例',
    'fn.saddle': '原点に鞍点があり、最小点はない: 降下は y の方向へ滑り落ちる',
  },
};

export const LANGUAGES = ['en', 'ja'];
const STORAGE_KEY = 'zerodl-lab-language';
let current = 'en';

// The string `key` in the chosen language with {name} replaced by params.name (English when
// the chosen language lacks it, the key itself when neither has it).
export function t(key, params = {}) {
  const text = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

// The string `key` in the chosen language, or null: for words the server sends in English
// (a function's description, why a session stopped), translated where this file knows them.
export function maybe(key) {
  return STRINGS[current][key] ?? null;
}

export function language() { return current; }

// The remembered choice, else the first of the browser's languages that the page speaks.
export function initialLanguage() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (LANGUAGES.includes(saved)) return saved;
  } catch (e) { /* storage may be off: the browser's languages decide */ }
  const wanted = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
  for (const tag of wanted) {
    const base = String(tag || '').toLowerCase().split('-')[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return 'en';
}

// Show the page in `lang`: every data-i18n element, <html lang>, the switch's buttons;
// `remember` keeps the choice for the next visit.
export function setLanguage(lang, remember = false) {
  current = LANGUAGES.includes(lang) ? lang : 'en';
  document.documentElement.lang = current;
  document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.querySelectorAll('[data-i18n-html]').forEach((el) => { el.innerHTML = t(el.dataset.i18nHtml); });
  document.querySelectorAll('[data-i18n-placeholder]').forEach((el) => {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  });
  document.querySelectorAll('[data-i18n-aria-label]').forEach((el) => {
    el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel));
  });
  document.querySelectorAll('[data-lang]').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.lang === current)));
  if (remember) {
    try { localStorage.setItem(STORAGE_KEY, current); } catch (e) { /* not remembered, still shown */ }
  }
}
