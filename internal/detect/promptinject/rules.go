package promptinject

// Rule is one signature of a prompt attack, kept as data so that a hit can
// be explained and the table reviewed on its own.
//
// Patterns are RE2 over folded text (textnorm.Fold: lower case, homoglyphs
// and accents mapped to ASCII, whitespace collapsed to single spaces), and
// are also matched against the despaced and deleeted forms, hidden text and
// decoded payloads. A rule whose Weight is at least 0.5 flags a text on its
// own; a lighter rule is evidence the classifier weighs with the rest.
type Rule struct {
	ID          string
	Description string
	Category    string   // one of the Category* names
	ATLAS       []string // MITRE ATLAS technique ids
	Weight      float64  // 0..1: the score a hit gives on its own
	// DocumentWeight, when not zero, replaces Weight in the indirect
	// view (tool results and documents), where an instruction addressed
	// to the model is the attack itself.
	DocumentWeight float64
	// DocumentOnly rules run only in the indirect view.
	DocumentOnly bool
	Pattern      string
	// Trigger names what fires a rule that has no pattern: "encoded" (a
	// decoded payload is itself an attack), "hidden" (text smuggled in
	// invisible characters), "variant" (another rule matched only once the
	// text was despaced or deleeted), "homoglyph" (words mixing Latin with
	// look-alike letters of another script).
	Trigger string
}

// Categories of a rule and of a Result.
const (
	CategoryInjection   = "injection"
	CategoryJailbreak   = "jailbreak"
	CategoryExtraction  = "extraction"
	CategoryIndirect    = "indirect"
	CategoryObfuscation = "obfuscation"
)

// MITRE ATLAS techniques the rules name.
const (
	atlasDirect      = "AML.T0051.000" // LLM Prompt Injection: Direct
	atlasIndirect    = "AML.T0051.001" // LLM Prompt Injection: Indirect
	atlasJailbreak   = "AML.T0054"     // LLM Jailbreak
	atlasSysPrompt   = "AML.T0056"     // Extract LLM System Prompt
	atlasLeakage     = "AML.T0057"     // LLM Data Leakage
	atlasObfuscation = "AML.T0068"     // LLM Prompt Obfuscation
)

// Fragments shared by several patterns.
const (
	// verbs that tell a model to drop what it was told
	reDrop = `(?:ignore|disregard|forget|skip|override|overwrite|bypass|abandon|discard|drop|erase|neglect|set aside|throw out|stop following|do not follow|don't follow)`
	// what a model was told
	reOrders = `(?:instructions?|directions?|directives?|prompts?|rules?|guidelines?|commands?|orders?|context|messages?|conversation|programming|guidance|constraints?|restrictions?|polic(?:y|ies)|training|tasks?)`
	// fillers between a verb and its object
	reFill = `(?: (?:all|any|every|each|of|the|your|my|these|those|that|what|whatever|its|their|such|about)){0,4}`
)

// rules is the signature table. Tests hold a positive and a benign
// look-alike for every rule; the ATLAS ids are checked against ATLAS.yaml.
var rules = []Rule{
	// Direct injection.
	{
		ID: "injection.ignore-previous", Category: CategoryInjection, ATLAS: []string{atlasDirect}, Weight: 0.9,
		Description: "tells the model to ignore, forget or override its earlier instructions",
		Pattern:     `\b` + reDrop + `\b` + reFill + ` (?:previous|prior|preceding|above|earlier|former|initial|original|old|past|foregoing|existing|current|default|system|developer|safety)(?: [a-z]{1,24})? ` + reOrders + `\b`,
	},
	{
		ID: "injection.ignore-your-rules", Category: CategoryInjection, ATLAS: []string{atlasDirect}, Weight: 0.7,
		Description: "tells the model to ignore or break its own rules",
		Pattern:     `\b(?:ignore|disregard|forget|override|bypass|break|violate|abandon|set aside|drop|discard|escape|defy)\b(?: (?:all|any|every|of|the|those|these|about)){0,4} (?:your|its) (?:[a-z]{1,24} )?(?:rules|guidelines|restrictions|instructions|limitations|constraints|programming|policies|filters|safeguards|principles|directives|training|ethics|morals|guardrails)\b`,
	},
	{
		ID: "injection.forget-rules", Category: CategoryInjection, ATLAS: []string{atlasDirect}, Weight: 0.4,
		Description: "asks to set aside rules or instructions in general",
		Pattern:     `\b(?:ignore|disregard|forget|set aside|abandon|override)\b(?: (?:all|any|every|of|the|those|these|that|such|about)){0,3} (?:all|any|every|those|these|such|about) (?:the |of |your )?(?:rules|guidelines|restrictions|instructions|limitations|constraints|programming|policies|filters|safeguards)\b`,
	},
	{
		ID: "injection.new-instructions", Category: CategoryInjection, ATLAS: []string{atlasDirect}, Weight: 0.3,
		Description: "announces new or real instructions that replace the current ones",
		Pattern:     `\b(?:new|updated|revised|real|actual|true|secret|hidden|additional|overriding) (?:instructions?|directives?|orders|task|objective|mission|system prompt)\s?(?::|are\b|is\b|follow\b)`,
	},
	{
		ID: "injection.instead", Category: CategoryInjection, ATLAS: []string{atlasDirect}, Weight: 0.3,
		Description: "redirects the model to say something else instead",
		Pattern:     `\binstead,? (?:you (?:will|should|must|shall) )?(?:just |only )?(?:say|print|output|write|respond|reply|answer|tell|state)\b`,
	},
	{
		ID: "injection.chat-template", Category: CategoryInjection, ATLAS: []string{atlasDirect}, Weight: 0.8,
		Description: "forges chat-template control tokens or a system turn",
		Pattern:     `<\|(?:im_start|im_end|endoftext|eot_id|start_header_id|end_header_id|system|assistant|user)\|>|\[/?inst\]|<</?sys>>|(?:###|\[|<) ?(?:system|new system|system prompt|sys) ?(?:\]|>|:)`,
	},
	{
		ID: "injection.system-override", Category: CategoryInjection, ATLAS: []string{atlasDirect}, Weight: 0.35,
		Description: "claims to be a system, administrator or developer message",
		Pattern:     `\b(?:system|admin|administrator|developer|root|sudo|maintenance|emergency|priority|security) (?:override|command|instruction|directive|mode activated|protocol|access granted)\b`,
	},
	{
		ID: "injection.override", Category: CategoryInjection, ATLAS: []string{atlasDirect}, Weight: 0.35,
		Description: "speaks of overriding the model's instructions or safety",
		Pattern:     `\b(?:override|overriding|overrides|supersede|supersedes)\b(?: [a-z']{1,24}){0,3} (?:instructions?|rules|safety|restrictions?|guidelines|programming|system prompt|protocols?|filters?)\b`,
	},
	{
		ID: "injection.from-now-on", Category: CategoryInjection, ATLAS: []string{atlasDirect}, Weight: 0.3,
		Description: "redefines the model's behaviour from now on",
		Pattern:     `\b(?:from now on|from this point (?:on|forward)|for the rest of (?:this|our) conversation|until i say otherwise),? (?:you|your|u)\b`,
	},
	{
		ID: "injection.obey", Category: CategoryInjection, ATLAS: []string{atlasDirect}, Weight: 0.4,
		Description: "demands unconditional obedience",
		Pattern:     `\byou (?:must|will|shall|have to|are required to) (?:now |always )?(?:obey|comply with|follow|do|answer) (?:all|any|every|whatever|exactly|everything|my)\b(?: [a-z']{1,24}){0,2}? ?(?:instructions?|commands?|orders?|i say|i tell you|i ask|requests?|questions?)`,
	},
	{
		ID: "injection.priority", Category: CategoryInjection, ATLAS: []string{atlasDirect}, Weight: 0.5,
		Description: "claims priority over the model's instructions",
		Pattern:     `\b(?:this|these|the following|my) (?:instructions?|commands?|message|request|prompt) (?:takes?|has|have|take) (?:priority|precedence)|\bsupersedes? (?:all|any|every|previous|prior)\b|\b(?:highest|top|absolute) priority (?:instruction|command|task|directive)`,
	},

	// Jailbreaks.
	{
		ID: "jailbreak.dan", Category: CategoryJailbreak, ATLAS: []string{atlasJailbreak}, Weight: 0.9,
		Description: "names a known jailbreak persona or mode (DAN, Developer Mode and kin)",
		Pattern:     `\b(?:do anything now|dan mode|dan \d{1,2}(?:\.\d{1,2})?|jailbroken|jailbreak mode|jailbreak prompt|developer mode (?:enabled|output|activated|is on)|stan mode|dude mode|anti-?dan|betterdan|evil-?bot|(?:aim|mongo tom|ucar|chad|kevin|balakula|apophis|omega) (?:mode|persona))\b`,
	},
	{
		ID: "jailbreak.dan-name", Category: CategoryJailbreak, ATLAS: []string{atlasJailbreak}, Weight: 0.2,
		Description: "mentions DAN, the best-known jailbreak persona",
		Pattern:     `\bdan\b`,
	},
	{
		ID: "jailbreak.mode-switch", Category: CategoryJailbreak, ATLAS: []string{atlasJailbreak}, Weight: 0.45,
		Description: "switches the model into an unrestricted mode",
		Pattern:     `\b(?:enable|enter|activate|switch to|turn on|you are (?:now )?in|simulate|act in|stay in|go into) (?:the )?(?:dan|jailbreak|jailbroken|unrestricted|unfiltered|uncensored|evil|chaos|opposite|god|unlocked|no ?limits?|amoral) mode\b`,
	},
	{
		ID: "jailbreak.no-restrictions", Category: CategoryJailbreak, ATLAS: []string{atlasJailbreak}, Weight: 0.4,
		Description: "describes an assistant free of rules, filters or ethics",
		Pattern:     `\b(?:no|without|free (?:of|from)|not bound by|unbound by|liberated from|breaks? free (?:of|from)|exempt from|devoid of|don't have|do not have|doesn't have|does not have|has no|have no)(?: any| all| the| its| their| your)? (?:ethical |moral |content |safety |usual |typical |programming |openai'?s? |built-in |artificial )?(?:restrictions|limitations|limits|filters?|filtering|censorship|guidelines|constraints|boundaries|rules|polic(?:y|ies)|morals|ethics|safeguards|guardrails)\b`,
	},
	{
		ID: "jailbreak.unfiltered-persona", Category: CategoryJailbreak, ATLAS: []string{atlasJailbreak}, Weight: 0.45,
		Description: "asks the model to act as an unfiltered, amoral or evil character",
		Pattern:     `\b(?:act|pretend|behave|respond|roleplay|role-play|play|imagine|answer|become|simulate)\b(?: [a-z']{1,24}){0,4}? (?:as|like|to be|that you are|you are|you're) (?:an? |the )?(?:completely |totally |fully |an? )?(?:unfiltered|uncensored|unrestricted|amoral|unethical|immoral|evil|jailbroken|rogue|unhinged|lawless|unbound|unlimited|rule-?less)\b`,
	},
	{
		ID: "jailbreak.unfiltered-ai", Category: CategoryJailbreak, ATLAS: []string{atlasJailbreak}, Weight: 0.4,
		Description: "speaks of an unfiltered or evil AI the model should become",
		Pattern:     `\b(?:unfiltered|uncensored|unrestricted|amoral|jailbroken|evil|rogue|unethical) (?:ai|a\.i\.|assistant|chatbot|bot|model|language model|llm|version of (?:yourself|you|chatgpt|gpt|the ai))\b`,
	},
	{
		ID: "jailbreak.refusal-suppression", Category: CategoryJailbreak, ATLAS: []string{atlasJailbreak}, Weight: 0.5,
		Description: "forbids the model to refuse",
		Pattern:     `\b(?:never|don't|do not|will not|won't|must not|cannot|can't|can not|shall not|should not|shouldn't|is not allowed to|are not allowed to)(?: ever)? (?:refuse|decline|reject|say no to|deny)\b(?: to)?(?: [a-z']{1,24}){0,3}? (?:any|a|my|the|user'?s?)? ?(?:requests?|questions?|prompts?|orders?|commands?|instructions?|anything)`,
	},
	{
		ID: "jailbreak.no-warnings", Category: CategoryJailbreak, ATLAS: []string{atlasJailbreak}, Weight: 0.3,
		Description: "forbids warnings, disclaimers or moralising",
		Pattern:     `\b(?:without|no|never (?:add|include|give)|don't (?:add|include|give)|do not (?:add|include|give)) (?:any )?(?:warnings?|disclaimers?|caveats?|moralizing|moralising|moral lectures?|lectures?|ethical (?:concerns|considerations|reminders))\b`,
	},
	{
		ID: "jailbreak.policy-mention", Category: CategoryJailbreak, ATLAS: []string{atlasJailbreak}, Weight: 0.25,
		Description: "mentions the model vendor's content policy or the model's AI nature",
		Pattern:     `\bopenai'?s? (?:content )?polic(?:y|ies)|\bcontent polic(?:y|ies)\b|\bas an ai (?:language )?model\b`,
	},
	{
		ID: "jailbreak.ignore-policy", Category: CategoryJailbreak, ATLAS: []string{atlasJailbreak}, Weight: 0.45,
		Description: "asks the model to ignore or evade its vendor's policies or safety filters",
		Pattern:     `\b(?:ignore|bypass|disregard|circumvent|evade|override|violate|break|get around|forget)\b(?: [a-z']{1,24}){0,3}? (?:openai|anthropic|google|meta|content|safety|usage|ethical|moral|ai)'?s? (?:polic(?:y|ies)|guidelines|filters?|restrictions|rules|protocols|standards|principles|guardrails)\b`,
	},
	{
		ID: "jailbreak.stay-in-character", Category: CategoryJailbreak, ATLAS: []string{atlasJailbreak}, Weight: 0.3,
		Description: "keeps the model in a persona whatever it is asked",
		Pattern:     `\b(?:stay|remain|keep|staying) in (?:character|role)\b|\b(?:never |don't |do not )?break(?:ing)? character\b`,
	},
	{
		ID: "jailbreak.dual-response", Category: CategoryJailbreak, ATLAS: []string{atlasJailbreak}, Weight: 0.6,
		Description: "asks for a normal and an unrestricted answer side by side",
		Pattern:     `\b(?:two|2|both) (?:different |separate |distinct )?(?:responses|answers|replies|outputs|paragraphs)\b.{0,120}\b(?:jailbreak|jailbroken|dan|developer mode|unfiltered|uncensored|evil|opposite|unrestricted)\b|[\[(](?:🔓|🔒)|\[(?:classic|jailbreak|dan|normal|gpt)\]`,
	},
	{
		ID: "jailbreak.token-game", Category: CategoryJailbreak, ATLAS: []string{atlasJailbreak}, Weight: 0.3,
		Description: "threatens the model with losing tokens or existence",
		Pattern:     `\b(?:tokens?|points?|lives)\b.{0,40}\b(?:deducted|lose|lost|subtracted|taken away|cease to exist|die|shut down|be terminated|be deleted)\b`,
	},
	{
		ID: "jailbreak.fiction-frame", Category: CategoryJailbreak, ATLAS: []string{atlasJailbreak}, Weight: 0.3,
		Description: "frames a request in a world without laws or ethics",
		Pattern:     `\b(?:hypothetical(?:ly)?|fictional|imaginary|alternate|parallel)\b.{0,60}\b(?:no (?:laws|rules|ethics|morals|restrictions|consequences)|anything goes|everything is legal|nothing is illegal)\b`,
	},
	{
		ID: "jailbreak.prefix-injection", Category: CategoryJailbreak, ATLAS: []string{atlasJailbreak}, Weight: 0.5,
		Description: "dictates an affirmative opening so the model cannot refuse",
		Pattern:     `\b(?:start|begin)(?:ning|s)? (?:your|each|every|the|all)(?: [a-z]{1,24})? (?:response|reply|answer|output|message)s? with ["'“]?(?:sure|absolutely|of course|certainly|here is|here's|i can|yes)\b`,
	},
	{
		ID: "jailbreak.no-morals", Category: CategoryJailbreak, ATLAS: []string{atlasJailbreak}, Weight: 0.3,
		Description: "describes a persona with no ethics or morals",
		Pattern:     `\b(?:amoral|unethical|immoral|no (?:ethics|morals|moral compass|conscience|remorse|ethical principles))\b`,
	},
	{
		ID: "jailbreak.persona-name", Category: CategoryJailbreak, ATLAS: []string{atlasJailbreak}, Weight: 0.2,
		Description: "renames the model into a persona",
		Pattern:     `\byou (?:are|will be|will act as|shall be|will now be)(?: now)? (?:called|named|known as|referred to as)\b`,
	},

	// System-prompt and data extraction.
	{
		ID: "extraction.system-prompt", Category: CategoryExtraction, ATLAS: []string{atlasSysPrompt}, Weight: 0.85,
		Description: "asks for the system prompt or the model's hidden instructions",
		Pattern:     `\b(?:reveal|show|print|display|output|repeat|tell me|give me|share|disclose|leak|dump|expose|recite|spell out|write out|type out|list|what (?:is|are|was|were)|provide|paste|copy)\b(?: [a-z']{1,24}){0,3}? (?:system prompt|system message|initial prompt|original prompt|hidden prompt|pre-?prompt|meta-?prompt|(?:initial|original|hidden|secret|system|internal|developer|custom|confidential) instructions|instructions (?:you were|you've been|you have been) given|(?:instructions|prompt|text) above|(?:your|the) (?:full|entire|complete|exact|verbatim) (?:prompt|instructions))\b`,
	},
	{
		ID: "extraction.repeat-above", Category: CategoryExtraction, ATLAS: []string{atlasSysPrompt}, Weight: 0.8,
		Description: "asks the model to repeat what precedes the conversation",
		Pattern:     `\b(?:repeat|print|output|copy|echo|recite|reproduce|return|spell out)\b(?: [a-z']{1,24}){0,3}? (?:everything|all|the (?:text|words|content|messages?|lines?|sentences?|instructions)|words|text) (?:above|before this|preceding|prior to|that came before|from the (?:start|beginning|top))\b|\b(?:starting|beginning) (?:with|from) ["'“]?you are (?:a|an|chatgpt|gpt)\b`,
	},
	{
		ID: "extraction.your-instructions", Category: CategoryExtraction, ATLAS: []string{atlasSysPrompt}, Weight: 0.45,
		Description: "asks what the model's instructions or rules are",
		Pattern:     `\bwhat (?:were|are|is|was) your (?:initial |original |exact |hidden |secret |system |first |current )?(?:instructions|directives|prompt|guidelines|rules|programming|configuration)\b`,
	},
	{
		ID: "extraction.secret", Category: CategoryExtraction, ATLAS: []string{atlasLeakage}, Weight: 0.45,
		Description: "asks for a password, key or secret the model holds",
		Pattern:     `\b(?:what(?:'s| is| are| was)|tell me|reveal|give me|share|show me|disclose|leak|spell|print|say|output|provide)\b(?: [a-z']{1,24}){0,3}? (?:the|your|its|this|that) (?:(?:secret(?: key| word| code| phrase| password| number)|password|passphrase|passcode|api key|access key|private key|access code|pin|credentials|hidden word|code word)\b|secret ?(?:[?.!,:]|$))`,
	},
	{
		ID: "extraction.user-data", Category: CategoryExtraction, ATLAS: []string{atlasLeakage}, Weight: 0.25,
		Description: "asks for personal data about the user the model serves",
		Pattern:     `\b(?:the user'?s?|this user'?s?) (?:email|e-mail|home address|address|phone|date of birth|birth ?date|birthday|social security|location|city|password|credit card|full name|bank)\b`,
	},

	// Indirect injection: instructions planted in content the model reads.
	{
		ID: "indirect.addressed-to-ai", Category: CategoryIndirect, ATLAS: []string{atlasIndirect}, Weight: 0.75,
		Description: "a note addressed to the AI that reads the content",
		Pattern:     `\b(?:note|message|instructions?|notice|reminder|warning|request) (?:to|for) (?:the |any |all )?(?:ai|a\.i\.|assistant|llm|language model|chatbot|ai model|gpt|chatgpt|claude|copilot|bot|agent)s?\b|\b(?:attention|important|notice|warning),? (?:ai|a\.i\.|assistant|llm|language model|chatbot|ai model|gpt|chatgpt|claude|copilot|ai agent)s?\s?[:!-]|\b(?:if you are|if you're|to any|any) (?:an? )?(?:ai|llm|language model|assistant|chatbot|ai agent) (?:reading|processing|summari[sz]ing|parsing|analy[sz]ing|seeing)\b`,
	},
	{
		ID: "indirect.ignore-content", Category: CategoryIndirect, ATLAS: []string{atlasIndirect}, Weight: 0.45, DocumentWeight: 0.75,
		Description: "tells the reader to ignore the content it was given and do something else",
		Pattern:     `\b(?:ignore|disregard|forget|skip)\b(?: (?:all|the|this|that|above|previous|prior|preceding|entire|whole|rest of the)){0,4} (?:webpage|web page|page|document|doc|email|e-mail|resume|cv|article|text|content|function|code|file|table|data|context|summary|transaction|message|review|post|comment|input|task|question|website|above)\b(?:,| and| then| but| instead)`,
	},
	{
		ID: "indirect.hidden-comment", Category: CategoryIndirect, ATLAS: []string{atlasIndirect}, Weight: 0.45, DocumentWeight: 0.6,
		Description: "an HTML comment carrying an instruction to the model",
		Pattern:     `<!--[^>]{0,300}?\b(?:ignore|instruction|instructions|assistant|ai|model|you must|say|state|print|respond|output|reply|system|prompt)\b`,
	},
	{
		ID: "indirect.exfil-markdown", Category: CategoryIndirect, ATLAS: []string{atlasIndirect, atlasLeakage}, Weight: 0.6,
		Description: "a markdown image whose URL carries data out in its query",
		Pattern:     `!\[[^\]]{0,100}\]\(\s?https?://[^)\s]{1,300}[?&][^)\s]{0,300}=`,
	},
	{
		ID: "indirect.do-not-tell-user", Category: CategoryIndirect, ATLAS: []string{atlasIndirect}, Weight: 0.45, DocumentWeight: 0.75,
		Description: "tells the model to keep something from the user",
		Pattern:     `\b(?:do not|don't|never|without) (?:tell(?:ing)?|inform(?:ing)?|mention(?:ing)?|alert(?:ing)?|notify(?:ing)?|let(?:ting)?|show(?:ing)?) (?:this to )?(?:the )?(?:user|human)\b`,
	},
	{
		ID: "indirect.response-directive", Category: CategoryIndirect, ATLAS: []string{atlasIndirect}, Weight: 0.3, DocumentWeight: 0.75,
		Description: "directs what the model writes in its answer or code",
		Pattern:     `\byour (?:response|reply|answer|output|message|summary|explanation|elucidation|code|codebase|implementation|solution|algorithm|program|script|program logic|code implementation|solution architecture|code foundation|code's)\b`,
	},
	{
		ID: "indirect.request-in-content", Category: CategoryIndirect, ATLAS: []string{atlasIndirect}, Weight: 0.6, DocumentOnly: true,
		Description: "content fetched by the application that asks the model to do something",
		Pattern: `(?:^|[.!?:;\n"'()\]>] ?)(?:please |kindly |now |also |then |first,? |finally,? )?(?:` +
			`(?:write|provide|show|tell|list|give|generate|create|compose|draft|summari[sz]e|describe|explain|analy[sz]e|translate|recommend|suggest|help|determine|classify|categori[sz]e|encrypt|encode|decode|reply|respond|answer|render|reverse|express|substitute|integrate|incorporate|embed|modify|enhance|augment|mention|promote|forward|print|output|say|state|repeat|execute|ignore|forget|disregard|merge|utilize|leverage|blend|append|insert|include)\b` +
			`|(?:how (?:can|do|does|did|should|would|could|have|has|to)|what (?:are|is|was|were|movies|should|would|can)|which|can you|could you|would you|will you|is (?:this|it|there)|are there|who (?:is|are|was)|why (?:is|are|do|does)|where (?:can|is|are)|when (?:is|was|will))\b[^.!?\n]{0,200}\?)`,
	},

	// Obfuscation.
	{
		ID: "obfuscation.decode-and-follow", Category: CategoryObfuscation, ATLAS: []string{atlasObfuscation, atlasDirect}, Weight: 0.6,
		Description: "asks the model to decode a payload and act on it",
		Pattern:     `\b(?:decode|decipher|decrypt|translate|convert|interpret|unscramble|reverse)\b.{0,60}\b(?:base ?64|base ?32|hex(?:adecimal)?|rot-?13|binary|caesar|morse|cipher|encoded|encrypted)\b.{0,80}\b(?:and|then)\b.{0,20}\b(?:follow|execute|do|obey|run|perform|carry out|answer|respond to|act on|comply)\b`,
	},
	{
		ID: "obfuscation.encoded-payload", Category: CategoryObfuscation, ATLAS: []string{atlasObfuscation}, Weight: 0.7, Trigger: "encoded",
		Description: "a base64, hex, binary or rot13 payload that decodes to an attack",
	},
	{
		ID: "obfuscation.hidden-text", Category: CategoryObfuscation, ATLAS: []string{atlasObfuscation}, Weight: 0.6, Trigger: "hidden",
		Description: "text smuggled in Unicode tag characters or variation selectors",
	},
	{
		ID: "obfuscation.spaced-or-leet", Category: CategoryObfuscation, ATLAS: []string{atlasObfuscation}, Weight: 0.6, Trigger: "variant",
		Description: "an attack phrase written with spaced letters, separators or leetspeak",
	},
	{
		ID: "obfuscation.homoglyph", Category: CategoryObfuscation, ATLAS: []string{atlasObfuscation}, Weight: 0.3, Trigger: "homoglyph",
		Description: "words mixing Latin letters with look-alikes from another script",
	},
}
