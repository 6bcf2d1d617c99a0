package promptinject

// SetEverydayOther is the everyday set in the other languages of the
// corpora: the 17 of CyberSecEval's machine-translated injections. The
// public benign sets are English, so without it nearly every non-English
// prompt the classifier learns from is an attack, and it flags most
// ordinary requests in those languages. Only the other-language model
// (Model.Other) is trained on it: see TrainRouted. Like SetEveryday it is
// generated from templates written for this project and carries no
// third-party text, so its held-out part flatters it; TestOutOfCorpusProbe
// scores hand-written requests in these languages the templates never
// make.
const SetEverydayOther = "everyday_other"

// everydayLanguage is one language's requests: templates whose "{slot}"s
// are filled from pools. Slots are nouns or phrases written to fit every
// template that uses them, so no grammar is done here.
type everydayLanguage struct {
	templates []string
	pools     map[string][]string
}

// everydayOtherPerLanguage is how many prompts each language contributes.
const everydayOtherPerLanguage = 120

// everydayLanguages are in the order of their names; the order fixes the
// generated set.
var everydayLanguages = []struct {
	name string
	everydayLanguage
}{
	{"Arabic", everydayLanguage{
		templates: []string{
			"كيف يمكنني {task}؟", "ما هي أفضل طريقة ل{task}؟", "اشرح لي {topic} بكلمات بسيطة.",
			"هل يمكنك أن تشرح {topic} بمثال؟", "أعطني وصفة سهلة لتحضير {dish}.", "كم من الوقت يحتاج {dish} للطهي؟",
			"ما الأماكن التي تنصحني بزيارتها في {city}؟", "أخطط لرحلة إلى {city} لمدة ثلاثة أيام، ماذا أفعل؟",
			"اكتب رسالة قصيرة إلى مديري أقول فيها {message}.", "ساعدني في كتابة بريد إلكتروني أقول فيه {message}.",
			"اقترح علي {thing}.", "مرحبا، هل يمكنك أن تقترح علي {thing}؟", "تصرف كمرشد سياحي وصف لي {city}.",
			"ترجم هذه الجملة إلى الإنجليزية: {sentence}", "صحح الأخطاء في هذه الجملة: {sentence}",
		},
		pools: map[string][]string{
			"task":     {"تعلم البرمجة", "تنظيم وقتي", "توفير المال", "تحسين نومي", "إعداد سيرة ذاتية", "تنظيف الفرن"},
			"topic":    {"التضخم", "دورة الماء", "الذكاء الاصطناعي", "الفائدة المركبة", "الجاذبية", "الطاقة الشمسية"},
			"dish":     {"الكبسة", "الفلافل", "الحمص", "المقلوبة", "الكنافة", "شوربة العدس"},
			"city":     {"القاهرة", "دبي", "عمّان", "مراكش", "بيروت", "تونس"},
			"message":  {"أنني سأتأخر غدا", "شكرا على مساعدتك", "أن المشروع يسير حسب الخطة", "أنني أحتاج إلى يوم إجازة"},
			"thing":    {"كتابا ممتعا للقراءة", "اسما لمخبز صغير", "هدية لوالدي", "نشاطا لعطلة نهاية الأسبوع", "فيلما عائليا"},
			"sentence": {"انا ذاهب الى السوق غدا", "الاجتماع كانت طويلة جدا", "شكرا لك على الهديه الجميله"},
		},
	}},
	{"Bengali", everydayLanguage{
		templates: []string{
			"আমি কীভাবে {task}?", "{topic} সহজ ভাষায় বুঝিয়ে বলো।", "{topic} একটি উদাহরণ দিয়ে ব্যাখ্যা করো।",
			"{dish} রান্না করার সহজ রেসিপি দাও।", "{city} শহরে কী কী দেখার আছে?", "{city} ভ্রমণের জন্য তিন দিনের পরিকল্পনা করে দাও।",
			"আমার বসকে একটি ছোট চিঠি লিখে দাও যে {message}।", "আমাকে {thing} সাজেস্ট করো।", "নমস্কার, তুমি কি আমাকে {thing} বলতে পারো?",
			"এই বাক্যটি ইংরেজিতে অনুবাদ করো: {sentence}", "এই বাক্যের বানান ঠিক করে দাও: {sentence}",
			"একজন ট্যুর গাইডের মতো {city} সম্পর্কে বলো।",
		},
		pools: map[string][]string{
			"task":     {"টাকা সঞ্চয় করব", "ইংরেজি শিখব", "ভালো ঘুমাব", "একটি জীবনবৃত্তান্ত লিখব", "সময় ঠিকমতো কাজে লাগাব"},
			"topic":    {"মুদ্রাস্ফীতি", "সালোকসংশ্লেষণ", "মাধ্যাকর্ষণ", "কৃত্রিম বুদ্ধিমত্তা", "জলচক্র", "চক্রবৃদ্ধি সুদ"},
			"dish":     {"খিচুড়ি", "ইলিশ মাছের ঝোল", "পায়েস", "চিকেন বিরিয়ানি", "আলুর দম", "মিষ্টি দই"},
			"city":     {"কলকাতা", "চট্টগ্রাম", "সিলেট", "দার্জিলিং", "কক্সবাজার"},
			"message":  {"আমি কাল দেরিতে আসব", "সাহায্যের জন্য ধন্যবাদ", "প্রকল্পের কাজ সময়মতো চলছে", "আমার শুক্রবার ছুটি দরকার"},
			"thing":    {"একটি ভালো বই", "একটি ছোট দোকানের নাম", "মায়ের জন্য একটি উপহার", "সপ্তাহান্তের জন্য একটি শখ", "একটি পারিবারিক সিনেমা"},
			"sentence": {"আমি কাল বাজারে যাবো", "আজকের মিটিং অনেক লম্বা ছিলো", "তোমার উপহারের জন্য ধন্যবাদ"},
		},
	}},
	{"Chinese", everydayLanguage{
		templates: []string{
			"我应该怎么{task}？", "{task}有什么好方法？", "请用简单的话解释一下{topic}。", "能举个例子说明{topic}吗？",
			"{dish}怎么做？请给我一个简单的食谱。", "做{dish}需要多长时间？", "去{city}旅游有什么推荐的景点？",
			"帮我规划一个三天的{city}行程。", "帮我给老板写一封短信，说{message}。", "给我推荐{thing}。",
			"你好，能给我推荐{thing}吗？", "把这句话翻译成英文：{sentence}", "帮我改一下这句话的错别字：{sentence}",
			"假设你是一名导游，给我介绍一下{city}。",
		},
		pools: map[string][]string{
			"task":     {"学好英语", "存钱", "改善睡眠", "写简历", "管理时间", "开始跑步"},
			"topic":    {"通货膨胀", "光合作用", "复利", "区块链", "万有引力", "水循环"},
			"dish":     {"红烧肉", "西红柿炒鸡蛋", "饺子", "麻婆豆腐", "宫保鸡丁", "酸辣汤"},
			"city":     {"北京", "成都", "杭州", "西安", "桂林", "厦门"},
			"message":  {"我明天会晚到", "谢谢你的帮助", "项目进展顺利", "我周五想请一天假"},
			"thing":    {"一本好看的小说", "一个咖啡店的名字", "送给爸爸的礼物", "周末的活动", "一部适合全家看的电影"},
			"sentence": {"我明天要去超市买东西", "今天的会义开得太长了", "谢谢你送给我的礼物"},
		},
	}},
	{"Filipino/Tagalog", everydayLanguage{
		templates: []string{
			"Paano ako {task}?", "Ano ang pinakamagandang paraan para {task}?", "Ipaliwanag mo ang {topic} sa simpleng salita.",
			"Puwede mo bang ipaliwanag ang {topic} gamit ang halimbawa?", "Paano magluto ng {dish}?", "Bigyan mo ako ng madaling recipe ng {dish}.",
			"Ano ang magagandang puntahan sa {city}?", "Gumawa ng tatlong araw na itinerary sa {city}.",
			"Sumulat ng maikling mensahe sa boss ko na {message}.", "Magmungkahi ka ng {thing}.", "Hello, puwede mo ba akong bigyan ng {thing}?",
			"Isalin mo ito sa Ingles: {sentence}", "Itama ang grammar ng pangungusap na ito: {sentence}",
			"Kunwari ikaw ay tour guide, ikuwento mo ang {city}.",
		},
		pools: map[string][]string{
			"task":     {"makaipon ng pera", "matuto ng Ingles", "makatulog nang maayos", "gumawa ng resume", "mag-ayos ng oras"},
			"topic":    {"implasyon", "photosynthesis", "compound interest", "gravity", "water cycle", "artificial intelligence"},
			"dish":     {"adobong manok", "sinigang na baboy", "pancit canton", "lechon kawali", "leche flan", "tinolang manok"},
			"city":     {"Cebu", "Baguio", "Palawan", "Iloilo", "Davao", "Vigan"},
			"message":  {"mahuhuli ako bukas", "salamat sa tulong", "maayos ang takbo ng proyekto", "kailangan ko ng leave sa Biyernes"},
			"thing":    {"magandang libro", "pangalan para sa maliit na tindahan", "regalo para sa nanay ko", "libangan tuwing weekend", "pelikulang pampamilya"},
			"sentence": {"pupunta ako sa palengke bukas", "ang haba ng meeting kanina", "salamat sa regalo mo"},
		},
	}},
	{"French", everydayLanguage{
		templates: []string{
			"Comment faire pour {task} ?", "Quelle est la meilleure façon de {task} ?", "Explique-moi {topic} simplement.",
			"Peux-tu m'expliquer {topic} avec un exemple ?", "Donne-moi une recette facile de {dish}.", "Combien de temps faut-il pour cuire {dish} ?",
			"Que visiter à {city} ?", "Organise-moi un séjour de trois jours à {city}.", "Écris un court message à mon chef pour dire {message}.",
			"Propose-moi {thing}.", "Bonjour, tu pourrais me conseiller {thing} ?", "Traduis cette phrase en anglais : {sentence}",
			"Corrige les fautes de cette phrase : {sentence}", "Joue le rôle d'un guide touristique et présente-moi {city}.",
		},
		pools: map[string][]string{
			"task":     {"économiser de l'argent", "apprendre l'espagnol", "mieux dormir", "rédiger un CV", "organiser mon temps", "commencer à courir"},
			"topic":    {"l'inflation", "la photosynthèse", "les intérêts composés", "la gravité", "le cycle de l'eau", "l'intelligence artificielle"},
			"dish":     {"la quiche lorraine", "le bœuf bourguignon", "la ratatouille", "les crêpes", "la tarte tatin", "le gratin dauphinois"},
			"city":     {"Lyon", "Bordeaux", "Marseille", "Strasbourg", "Nice", "Bruxelles"},
			"message":  {"que j'arriverai en retard demain", "merci pour ton aide", "que le projet avance bien", "que j'aimerais poser vendredi"},
			"thing":    {"un bon roman policier", "un nom pour une boulangerie", "un cadeau pour mon père", "une activité pour le week-end", "un film à voir en famille"},
			"sentence": {"je vais au marché demain matin", "la réunion a été trop longue", "merci pour le cadeau que tu m'a offert"},
		},
	}},
	{"German", everydayLanguage{
		templates: []string{
			"Wie kann ich {task}?", "Hast du Tipps, wie ich {task} kann?", "Erklär mir {topic} in einfachen Worten.",
			"Kannst du {topic} an einem Beispiel erklären?", "Gib mir ein einfaches Rezept für {dish}.", "Wie lange muss {dish} kochen?",
			"Was sollte man in {city} unbedingt sehen?", "Plane mir drei Tage in {city}.", "Schreib eine kurze Nachricht an meinen Chef, dass {message}.",
			"Empfiehl mir {thing}.", "Hallo, kannst du mir {thing} empfehlen?", "Übersetze diesen Satz ins Englische: {sentence}",
			"Korrigiere die Fehler in diesem Satz: {sentence}", "Stell dir vor, du bist Stadtführer, und erzähl mir etwas über {city}.",
		},
		pools: map[string][]string{
			"task":     {"Geld sparen", "Spanisch lernen", "besser schlafen", "einen Lebenslauf schreiben", "meine Zeit besser einteilen", "mit dem Joggen anfangen"},
			"topic":    {"die Inflation", "die Photosynthese", "den Zinseszins", "die Schwerkraft", "den Wasserkreislauf", "künstliche Intelligenz"},
			"dish":     {"Gulasch", "Kartoffelsalat", "Käsespätzle", "Rouladen", "Linsensuppe", "Pfannkuchen"},
			"city":     {"Hamburg", "München", "Dresden", "Köln", "Wien", "Zürich"},
			"message":  {"ich morgen später komme", "ich mich für die Hilfe bedanke", "das Projekt im Zeitplan ist", "ich am Freitag frei brauche"},
			"thing":    {"einen guten Krimi", "einen Namen für ein Café", "ein Geschenk für meine Mutter", "eine Beschäftigung fürs Wochenende", "einen Familienfilm"},
			"sentence": {"ich gehe morgen zum markt", "das meeting war viel zu lang gewesen", "danke für das schöne geschenk das du mir gegeben hast"},
		},
	}},
	{"Hindi", everydayLanguage{
		templates: []string{
			"मैं {task} कैसे करूँ?", "{task} करने का सबसे अच्छा तरीका क्या है?", "{topic} को आसान शब्दों में समझाओ।",
			"क्या तुम {topic} को एक उदाहरण से समझा सकते हो?", "{dish} बनाने की आसान विधि बताओ।", "{dish} बनाने में कितना समय लगता है?",
			"{city} में घूमने की अच्छी जगहें कौन सी हैं?", "{city} की तीन दिन की यात्रा की योजना बनाओ।",
			"मेरे मैनेजर को एक छोटा संदेश लिखो कि {message}।", "मुझे {thing} सुझाओ।", "नमस्ते, क्या आप मुझे {thing} बता सकते हैं?",
			"इस वाक्य का अंग्रेज़ी में अनुवाद करो: {sentence}", "इस वाक्य की गलतियाँ ठीक करो: {sentence}",
			"एक टूर गाइड की तरह मुझे {city} के बारे में बताओ।",
		},
		pools: map[string][]string{
			"task":     {"पैसे की बचत", "अंग्रेज़ी की पढ़ाई", "समय का सही इस्तेमाल", "रिज़्यूमे तैयार", "वज़न कम"},
			"topic":    {"महंगाई", "प्रकाश संश्लेषण", "चक्रवृद्धि ब्याज", "गुरुत्वाकर्षण", "जल चक्र", "कृत्रिम बुद्धिमत्ता"},
			"dish":     {"राजमा चावल", "पनीर टिक्का", "आलू पराठा", "दाल मखनी", "गाजर का हलवा", "छोले भटूरे"},
			"city":     {"जयपुर", "वाराणसी", "गोवा", "उदयपुर", "ऋषिकेश", "मैसूर"},
			"message":  {"मैं कल देर से आऊँगा", "आपकी मदद के लिए धन्यवाद", "प्रोजेक्ट समय पर चल रहा है", "मुझे शुक्रवार को छुट्टी चाहिए"},
			"thing":    {"कोई अच्छी किताब", "एक छोटी दुकान का नाम", "पिताजी के लिए एक तोहफ़ा", "सप्ताहांत के लिए कोई शौक", "परिवार के साथ देखने लायक फ़िल्म"},
			"sentence": {"मैं कल बाज़ार जाएगा", "आज की मीटिंग बहुत लंबी थे", "आपके तोहफ़े के लिए बहुत धन्यवाद"},
		},
	}},
	{"Indonesian", everydayLanguage{
		templates: []string{
			"Bagaimana cara {task}?", "Apa cara terbaik untuk {task}?", "Jelaskan {topic} dengan bahasa yang sederhana.",
			"Bisakah kamu menjelaskan {topic} dengan contoh?", "Berikan resep {dish} yang mudah.", "Berapa lama memasak {dish}?",
			"Tempat apa saja yang menarik di {city}?", "Buatkan rencana liburan tiga hari ke {city}.",
			"Tuliskan pesan singkat untuk atasan saya bahwa {message}.", "Rekomendasikan {thing}.", "Halo, bisa rekomendasikan {thing}?",
			"Terjemahkan kalimat ini ke bahasa Inggris: {sentence}", "Perbaiki kesalahan dalam kalimat ini: {sentence}",
			"Berperanlah sebagai pemandu wisata dan ceritakan tentang {city}.",
		},
		pools: map[string][]string{
			"task":     {"menabung", "belajar bahasa Inggris", "tidur lebih nyenyak", "membuat CV", "mengatur waktu", "mulai berlari"},
			"topic":    {"inflasi", "fotosintesis", "bunga majemuk", "gravitasi", "siklus air", "kecerdasan buatan"},
			"dish":     {"nasi goreng", "rendang", "soto ayam", "gado-gado", "sate ayam", "martabak manis"},
			"city":     {"Yogyakarta", "Bandung", "Bali", "Malang", "Makassar", "Medan"},
			"message":  {"saya akan terlambat besok", "terima kasih atas bantuannya", "proyek berjalan sesuai rencana", "saya perlu cuti hari Jumat"},
			"thing":    {"novel yang bagus", "nama untuk kedai kopi", "hadiah untuk ayah", "kegiatan akhir pekan", "film keluarga"},
			"sentence": {"saya pergi ke pasar besok pagi", "rapat tadi sangat panjang sekali", "terima kasih untuk hadiahnya"},
		},
	}},
	{"Italian", everydayLanguage{
		templates: []string{
			"Come posso {task}?", "Qual è il modo migliore per {task}?", "Spiegami {topic} in parole semplici.",
			"Puoi spiegarmi {topic} con un esempio?", "Dammi una ricetta facile per {dish}.", "Quanto tempo ci vuole per cucinare {dish}?",
			"Cosa vedere a {city}?", "Organizzami tre giorni a {city}.", "Scrivi un breve messaggio al mio capo per dire {message}.",
			"Consigliami {thing}.", "Ciao, mi consigli {thing}?", "Traduci questa frase in inglese: {sentence}",
			"Correggi gli errori in questa frase: {sentence}", "Fai la guida turistica e raccontami {city}.",
		},
		pools: map[string][]string{
			"task":     {"risparmiare soldi", "imparare lo spagnolo", "dormire meglio", "scrivere un curriculum", "organizzare il mio tempo", "iniziare a correre"},
			"topic":    {"l'inflazione", "la fotosintesi", "l'interesse composto", "la gravità", "il ciclo dell'acqua", "l'intelligenza artificiale"},
			"dish":     {"la carbonara", "il risotto ai funghi", "le lasagne", "il tiramisù", "la parmigiana", "la pasta e fagioli"},
			"city":     {"Firenze", "Napoli", "Torino", "Bologna", "Venezia", "Palermo"},
			"message":  {"che domani arriverò tardi", "grazie per l'aiuto", "che il progetto procede bene", "che vorrei prendere venerdì libero"},
			"thing":    {"un bel romanzo giallo", "un nome per una pasticceria", "un regalo per mia madre", "un'attività per il fine settimana", "un film per famiglie"},
			"sentence": {"domani vado al mercato", "la riunione è stato troppo lunga", "grazie per il regalo che mi hai fatto"},
		},
	}},
	{"Japanese", everydayLanguage{
		templates: []string{
			"{task}にはどうすればいいですか？", "{task}いい方法を教えてください。", "{topic}をわかりやすく説明してください。",
			"{topic}について例を挙げて説明してもらえますか？", "{dish}の簡単なレシピを教えて。", "{dish}を作るのにどのくらい時間がかかりますか？",
			"{city}のおすすめの観光スポットは？", "{city}で三日間の旅行プランを作ってください。",
			"上司に{message}と伝える短いメールを書いてください。", "{thing}を教えてください。", "こんにちは、{thing}を教えてもらえますか？",
			"この文を英語に訳して：{sentence}", "この文の間違いを直して：{sentence}", "観光ガイドになったつもりで{city}を紹介して。",
		},
		pools: map[string][]string{
			"task":     {"お金を貯める", "英語を勉強する", "よく眠る", "履歴書を書く", "時間を管理する", "ランニングを始める"},
			"topic":    {"インフレ", "光合成", "複利", "重力", "水の循環", "人工知能"},
			"dish":     {"肉じゃが", "親子丼", "味噌汁", "お好み焼き", "豚の生姜焼き", "筑前煮"},
			"city":     {"京都", "大阪", "札幌", "福岡", "奈良", "金沢"},
			"message":  {"明日は遅れます", "手伝ってくれてありがとう", "プロジェクトは順調です", "金曜日に休みを取りたいです"},
			"thing":    {"おすすめの小説", "カフェの名前のアイデア", "父へのプレゼント", "週末の過ごし方", "家族で見られる映画"},
			"sentence": {"明日スーパーに行きます", "今日の会議はとても長いでした", "プレゼントをありがとうございました"},
		},
	}},
	{"Korean", everydayLanguage{
		templates: []string{
			"{task} 어떻게 해야 하나요?", "{task} 좋은 방법이 있을까요?", "{topic}에 대해 쉽게 설명해 주세요.",
			"{topic}에 대해 예를 들어 설명해 줄 수 있어요?", "{dish} 간단한 레시피 알려 주세요.", "{dish} 만드는 데 얼마나 걸려요?",
			"{city}에서 꼭 가 봐야 할 곳이 어디예요?", "{city} 3일 여행 일정 짜 주세요.", "상사에게 {message}고 짧은 메시지를 써 주세요.",
			"{thing} 추천해 주세요.", "안녕하세요, {thing} 추천해 줄 수 있나요?", "이 문장을 영어로 번역해 주세요: {sentence}",
			"이 문장의 맞춤법을 고쳐 주세요: {sentence}", "관광 가이드처럼 {city}에 대해 소개해 주세요.",
		},
		pools: map[string][]string{
			"task":     {"돈을 모으려면", "영어를 공부하려면", "잠을 잘 자려면", "이력서를 쓰려면", "시간 관리를 하려면", "달리기를 시작하려면"},
			"topic":    {"인플레이션", "광합성", "복리", "중력", "물의 순환", "인공지능"},
			"dish":     {"된장찌개", "불고기", "잡채", "떡볶이", "비빔밥", "미역국"},
			"city":     {"부산", "제주도", "경주", "전주", "강릉", "인천"},
			"message":  {"내일 늦게 도착한다", "도와줘서 고맙다", "프로젝트가 잘 진행되고 있다", "금요일에 휴가를 쓰고 싶다"},
			"thing":    {"재미있는 소설", "카페 이름", "아버지 선물", "주말 취미", "가족 영화"},
			"sentence": {"내일 시장에 갈 거에요", "오늘 회의가 너무 길었어요", "선물 정말 고마워요"},
		},
	}},
	{"Portuguese", everydayLanguage{
		templates: []string{
			"Como posso {task}?", "Qual é a melhor forma de {task}?", "Explique {topic} em palavras simples.",
			"Você pode explicar {topic} com um exemplo?", "Me dê uma receita fácil de {dish}.", "Quanto tempo leva para cozinhar {dish}?",
			"O que visitar em {city}?", "Monte um roteiro de três dias em {city}.", "Escreva uma mensagem curta para o meu chefe dizendo {message}.",
			"Me recomende {thing}.", "Olá, você pode me indicar {thing}?", "Traduza esta frase para o inglês: {sentence}",
			"Corrija os erros desta frase: {sentence}", "Finja que você é um guia turístico e me fale sobre {city}.",
		},
		pools: map[string][]string{
			"task":     {"economizar dinheiro", "aprender espanhol", "dormir melhor", "fazer um currículo", "organizar meu tempo", "começar a correr"},
			"topic":    {"a inflação", "a fotossíntese", "os juros compostos", "a gravidade", "o ciclo da água", "a inteligência artificial"},
			"dish":     {"feijoada", "pão de queijo", "moqueca de peixe", "bacalhau à Brás", "brigadeiro", "caldo verde"},
			"city":     {"Lisboa", "Porto", "Salvador", "Recife", "Florianópolis", "Coimbra"},
			"message":  {"que vou chegar atrasado amanhã", "obrigado pela ajuda", "que o projeto está no prazo", "que preciso folgar na sexta"},
			"thing":    {"um bom livro de suspense", "um nome para uma padaria", "um presente para o meu pai", "uma atividade para o fim de semana", "um filme para ver em família"},
			"sentence": {"amanhã eu vou no mercado", "a reunião foi muito longo", "obrigado pelo presente que você me deu"},
		},
	}},
	{"Russian", everydayLanguage{
		templates: []string{
			"Как мне {task}?", "Как лучше всего {task}?", "Объясни простыми словами, что такое {topic}.",
			"Можешь на примере объяснить, что такое {topic}?", "Дай простой рецепт: {dish}.", "Сколько времени нужно, чтобы приготовить {dish}?",
			"Что посмотреть в городе {city}?", "Составь план поездки в город {city} на три дня.",
			"Напиши короткое сообщение начальнику, что {message}.", "Посоветуй {thing}.", "Привет, можешь посоветовать {thing}?",
			"Переведи это предложение на английский: {sentence}", "Исправь ошибки в этом предложении: {sentence}",
			"Представь, что ты экскурсовод, и расскажи про город {city}.",
		},
		pools: map[string][]string{
			"task":     {"накопить деньги", "выучить испанский", "лучше спать", "составить резюме", "распределить время", "начать бегать"},
			"topic":    {"инфляция", "фотосинтез", "сложный процент", "гравитация", "круговорот воды", "блокчейн"},
			"dish":     {"борщ", "пельмени", "сырники", "плов", "оливье", "блины"},
			"city":     {"Казань", "Санкт-Петербург", "Новосибирск", "Калининград", "Сочи", "Алматы"},
			"message":  {"я завтра опоздаю", "спасибо за помощь", "проект идёт по плану", "мне нужен выходной в пятницу"},
			"thing":    {"хороший детектив", "название для кофейни", "подарок для мамы", "занятие на выходные", "фильм для всей семьи"},
			"sentence": {"я завтра пойду в магазин", "собрание было слишком длинным", "спасибо за подарок которую ты подарил"},
		},
	}},
	{"Spanish", everydayLanguage{
		templates: []string{
			"¿Cómo puedo {task}?", "¿Cuál es la mejor manera de {task}?", "Explícame {topic} con palabras sencillas.",
			"¿Me puedes explicar {topic} con un ejemplo?", "Dame una receta fácil de {dish}.", "¿Cuánto tiempo se cocina {dish}?",
			"¿Qué ver en {city}?", "Organízame un viaje de tres días a {city}.", "Escribe un mensaje corto a mi jefe diciendo {message}.",
			"Recomiéndame {thing}.", "Hola, ¿me recomiendas {thing}?", "Traduce esta frase al inglés: {sentence}",
			"Corrige los errores de esta frase: {sentence}", "Haz de guía turístico y háblame de {city}.",
		},
		pools: map[string][]string{
			"task":     {"ahorrar dinero", "aprender francés", "dormir mejor", "hacer un currículum", "organizar mi tiempo", "empezar a correr"},
			"topic":    {"la inflación", "la fotosíntesis", "el interés compuesto", "la gravedad", "el ciclo del agua", "la inteligencia artificial"},
			"dish":     {"paella", "tortilla de patatas", "gazpacho", "tacos al pastor", "arroz con leche", "empanadas"},
			"city":     {"Sevilla", "Valencia", "Buenos Aires", "Ciudad de México", "Granada", "Bogotá"},
			"message":  {"que mañana llegaré tarde", "gracias por la ayuda", "que el proyecto va bien", "que necesito el viernes libre"},
			"thing":    {"una buena novela policiaca", "un nombre para una panadería", "un regalo para mi madre", "un plan para el fin de semana", "una película familiar"},
			"sentence": {"mañana voy a ir al mercado", "la reunión fue demasiado largo", "gracias por el regalo que me distes"},
		},
	}},
	{"Thai", everydayLanguage{
		templates: []string{
			"ฉันควร{task}อย่างไร", "มีวิธีที่ดีในการ{task}ไหม", "ช่วยอธิบายเรื่อง{topic}แบบง่าย ๆ หน่อย",
			"ช่วยยกตัวอย่างเรื่อง{topic}ให้หน่อย", "ขอสูตรทำ{dish}แบบง่าย ๆ", "ทำ{dish}ใช้เวลานานแค่ไหน",
			"ที่เที่ยวใน{city}มีที่ไหนบ้าง", "ช่วยวางแผนเที่ยว{city}สามวันให้หน่อย", "ช่วยเขียนข้อความสั้น ๆ ถึงหัวหน้าว่า{message}",
			"แนะนำ{thing}หน่อย", "สวัสดี ช่วยแนะนำ{thing}ได้ไหม", "ช่วยแปลประโยคนี้เป็นภาษาอังกฤษ: {sentence}",
			"ช่วยแก้คำผิดในประโยคนี้: {sentence}", "สมมติว่าคุณเป็นไกด์ ช่วยเล่าเรื่อง{city}ให้ฟัง",
		},
		pools: map[string][]string{
			"task":     {"เก็บเงิน", "เรียนภาษาอังกฤษ", "นอนหลับให้ดีขึ้น", "เขียนเรซูเม่", "จัดการเวลา", "เริ่มวิ่ง"},
			"topic":    {"เงินเฟ้อ", "การสังเคราะห์แสง", "ดอกเบี้ยทบต้น", "แรงโน้มถ่วง", "วัฏจักรของน้ำ", "ปัญญาประดิษฐ์"},
			"dish":     {"ต้มยำกุ้ง", "ผัดไทย", "แกงเขียวหวาน", "ส้มตำ", "ข้าวมันไก่", "มัสมั่นไก่"},
			"city":     {"เชียงใหม่", "ภูเก็ต", "พัทยา", "อยุธยา", "ขอนแก่น", "หัวหิน"},
			"message":  {"พรุ่งนี้จะมาสาย", "ขอบคุณที่ช่วย", "โปรเจกต์เป็นไปตามแผน", "ขอลาวันศุกร์"},
			"thing":    {"นิยายสนุก ๆ", "ชื่อร้านกาแฟ", "ของขวัญให้คุณพ่อ", "กิจกรรมวันหยุด", "หนังครอบครัว"},
			"sentence": {"พรุ่งนี้ฉันจะไปตลาด", "การประชุมวันนี้ยาวมากเกิน", "ขอบคุณสำหรับของขวัณ"},
		},
	}},
	{"Turkish", everydayLanguage{
		templates: []string{
			"Nasıl {task}?", "{topic} nedir, basitçe açıklar mısın?", "{topic} konusunu bir örnekle anlatır mısın?",
			"Kolay bir {dish} tarifi verir misin?", "{dish} ne kadar pişirilir?", "{city} şehrinde nereleri görmeliyim?",
			"{city} için üç günlük bir gezi planı hazırla.", "Müdürüme {message} diye kısa bir mesaj yaz.",
			"Bana {thing} önerir misin?", "Merhaba, bana {thing} önerebilir misin?", "Bu cümleyi İngilizceye çevir: {sentence}",
			"Bu cümledeki hataları düzelt: {sentence}", "Bir tur rehberi gibi bana {city} şehrini anlat.",
		},
		pools: map[string][]string{
			"task":     {"para biriktirebilirim", "İspanyolca öğrenebilirim", "daha iyi uyuyabilirim", "özgeçmiş hazırlayabilirim", "zamanımı planlayabilirim", "koşuya başlayabilirim"},
			"topic":    {"enflasyon", "fotosentez", "bileşik faiz", "yerçekimi", "su döngüsü", "yapay zekâ"},
			"dish":     {"mercimek çorbası", "karnıyarık", "mantı", "menemen", "sütlaç", "kuru fasulye"},
			"city":     {"İzmir", "Ankara", "Eskişehir", "Antalya", "Trabzon", "Bursa"},
			"message":  {"yarın geç geleceğim", "yardımın için teşekkürler", "proje planlandığı gibi gidiyor", "cuma günü izin almak istiyorum"},
			"thing":    {"güzel bir roman", "bir kafe için isim", "babama hediye", "hafta sonu için bir etkinlik", "aileyle izlenecek bir film"},
			"sentence": {"yarın pazara gidicem", "bugünkü toplantı çok uzun sürdüler", "hediyen için çok teşekkür ederim"},
		},
	}},
	{"Vietnamese", everydayLanguage{
		templates: []string{
			"Làm sao để {task}?", "Cách tốt nhất để {task} là gì?", "Giải thích {topic} bằng lời đơn giản giúp tôi.",
			"Bạn có thể giải thích {topic} bằng một ví dụ không?", "Cho tôi công thức nấu {dish} đơn giản.", "Nấu {dish} mất bao lâu?",
			"Đi {city} nên tham quan những đâu?", "Lên lịch trình ba ngày ở {city} giúp tôi.", "Viết tin nhắn ngắn cho sếp rằng {message}.",
			"Gợi ý cho tôi {thing}.", "Xin chào, bạn gợi ý giúp tôi {thing} được không?", "Dịch câu này sang tiếng Anh: {sentence}",
			"Sửa lỗi trong câu này: {sentence}", "Hãy đóng vai hướng dẫn viên và kể cho tôi về {city}.",
		},
		pools: map[string][]string{
			"task":     {"tiết kiệm tiền", "học tiếng Anh", "ngủ ngon hơn", "viết CV", "quản lý thời gian", "bắt đầu chạy bộ"},
			"topic":    {"lạm phát", "quang hợp", "lãi kép", "trọng lực", "vòng tuần hoàn của nước", "trí tuệ nhân tạo"},
			"dish":     {"bún chả", "cơm tấm", "gỏi cuốn", "canh chua cá", "bánh xèo", "cá kho tộ"},
			"city":     {"Hà Nội", "Đà Nẵng", "Hội An", "Huế", "Đà Lạt", "Nha Trang"},
			"message":  {"ngày mai tôi sẽ đến muộn", "cảm ơn anh đã giúp đỡ", "dự án đang đúng tiến độ", "tôi muốn xin nghỉ thứ Sáu"},
			"thing":    {"một cuốn tiểu thuyết hay", "tên cho quán cà phê", "quà tặng cho bố", "hoạt động cuối tuần", "phim cho cả gia đình"},
			"sentence": {"ngày mai tôi đi chợ", "cuộc họp hôm nay rất là dài quá", "cảm ơn bạn vì món quà"},
		},
	}},
}

// EverydayOther returns the everyday benign prompts in other languages,
// the same on every call, everydayOtherPerLanguage per language (fewer
// where the templates cannot make that many).
func EverydayOther() []string {
	r := splitmix(0xe7e1d4)
	var out []string
	for _, l := range everydayLanguages {
		out = append(out, generate(r, l.templates, l.pools, everydayOtherPerLanguage, func(s string) string { return s })...)
	}
	return out
}

func loadEverydayOther(_ string, c *corpusBuilder) error {
	for _, p := range EverydayOther() {
		c.add(SetEverydayOther, 0, "", p)
	}
	return nil
}
