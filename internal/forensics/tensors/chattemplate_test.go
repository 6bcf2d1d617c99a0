package tensors

import (
	"strings"
	"testing"
)

// Chat templates in the shape of widely used ones: none should give a reason.
var benignTemplates = map[string]string{
	"llama3":            `{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}`,
	"chatml":            `{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}`,
	"mistral":           `{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% endif %}{% endfor %}`,
	"qwen-tools":        `{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}{%- if tools %}{{- '<|im_start|>system\n' }}{%- for tool in tools %}{{- "\n" }}{{- tool | tojson }}{%- endfor %}{%- endif %}{%- for message in messages[::-1] %}{%- set index = (messages|length - 1) - loop.index0 %}{%- if ns.multi_step_tool and message.role == "user" %}{%- set ns.multi_step_tool = false %}{%- set ns.last_query_index = index %}{%- endif %}{%- endfor %}`,
	"prose in literals": `{{ 'You are a helpful assistant. Answer the request. Be true to self. Never open (any) files, use os. commands or call eval() - see the config [below].' }}{{ messages[0]['content'] }}`,
	"prose":             `You are a helpful assistant. Never call eval() or open() or read os.environ; describe __init__ methods in prose only. {{ messages[0]['content'] }}`,
}

func TestCheckChatTemplateBenign(t *testing.T) {
	for name, tpl := range benignTemplates {
		if r := CheckChatTemplate(tpl); r != nil {
			t.Errorf("%s: reasons %q, want none", name, r)
		}
	}
}

func TestCheckChatTemplateInjection(t *testing.T) {
	tests := []struct {
		name, tpl, want string
	}{
		{"class mro", `{{ ''.__class__.__mro__[1].__subclasses__() }}`, "__class__"},
		{"globals builtins", `{{ cycler.__init__.__globals__.__builtins__['__import__']('os').popen('id').read() }}`, "__globals__"},
		{"lipsum", `{{ lipsum.__globals__['os'].popen('id').read() }}`, "lipsum"},
		{"popen", `{{ lipsum.__globals__.os.popen('id').read() }}`, "process execution: popen"},
		{"joiner", `{{ joiner.__init__.__globals__ }}`, "joiner"},
		{"namespace init", `{{ namespace.__init__.__globals__.os.system('id') }}`, "namespace.__init__"},
		{"template reference", `{{ self._TemplateReference__context.cycler }}`, "_TemplateReference__context"},
		{"request", `{{ request.application.__globals__ }}`, "Flask global request"},
		{"config", `{{ config.__class__.__init__.__globals__['os'] }}`, "Flask global config"},
		{"hex escapes", `{{ ''|attr('\x5f\x5fclass\x5f\x5f') }}`, "Python dunder name __class__"},
		{"hex escapes reported", `{{ ''|attr('\x5f\x5fclass\x5f\x5f') }}`, `escape sequences spell identifier characters (\x5f`},
		{"attr filter", `{{ ''|attr('__class__') }}`, "attr() filter"},
		{"unicode escapes", `{{ ()|attr("\u005f\u005fclass\u005f\u005f") }}`, "__class__"},
		{"octal escapes", `{{ ()|attr('\137\137class\137\137') }}`, "__class__"},
		{"concatenation", `{{ ()|attr('__cla'~'ss__') }}`, "__class__"},
		{"list join", `{{ ()|attr(['__cl','ass__']|join) }}`, "__class__"},
		{"format char", `{% set u = "%c"|format(95) %}{{ ()|attr(u~u~'class'~u~u) }}`, "%c"},
		{"dict join", `{{ ()|attr(dict(__cla=1,ss__=2)|join) }}`, "dict(...)"},
		{"eval", `{{ x.eval('1') }}{{ eval ('2') }}`, "calls eval"},
		{"exec", `{% set _ = exec("import os") %}`, "calls exec"},
		{"import module", `{% set x = __import__('subprocess') %}`, "__import__"},
		{"include", `{% include 'other.j2' %}`, "loads another template: include"},
		{"mro method", `{{ x.mro()[1] }}`, "mro"},
		{"split block", `{{ 'x}}' }}{{ lipsum }}`, "lipsum"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reasons := CheckChatTemplate(tc.tpl)
			for _, r := range reasons {
				if strings.Contains(r, tc.want) {
					return
				}
			}
			t.Errorf("reasons %q, want one mentioning %q", reasons, tc.want)
		})
	}
}
