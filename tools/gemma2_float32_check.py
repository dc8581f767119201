import json,struct,sys,math
import numpy as np
exec(open('gemma2_block0.py').read().split("f=sys.argv[1]")[0])
f='gemma2'; DT=np.float32 if sys.argv[1]=='32' else np.float64
d='/work/shared/fixtures/litgpt_ref/'+f
cfg=json.load(open(d+'/model/config.json'))
w={k:v.astype(DT) for k,v in load(d+'/model/model.safetensors').items()}; r=load(d+'/reference.safetensors')
H=cfg['hidden_size']; nh=cfg['num_attention_heads']; nkv=cfg['num_key_value_heads']; hd=cfg['head_dim']; eps=cfg['rms_norm_eps']
ids=r['input_ids'].astype(np.int64)
x=(w['model.embed_tokens.weight'][ids]*DT(math.sqrt(H))).astype(DT)
def rms(x,g): return (x/np.sqrt((x*x).mean(-1,keepdims=True)+DT(eps))*(DT(1)+g)).astype(DT)
B,T,_=x.shape
inv=(1.0/(np.float32(cfg['rope_theta'])**(np.arange(0,hd,2,dtype=np.float32)/np.float32(hd)))).astype(np.float32)
ang=(np.arange(T,dtype=np.float32)[:,None]*inv[None,:]).astype(np.float32)
emb=np.concatenate([ang,ang],-1); cos=np.cos(emb).astype(DT); sin=np.sin(emb).astype(DT)
def rot(a):
    a1=a[...,:hd//2]; a2=a[...,hd//2:]
    return a*cos[None,:,None,:]+np.concatenate([-a2,a1],-1)*sin[None,:,None,:]
cap=cfg['attn_logit_softcapping']; rep=nh//nkv; scale=DT(cfg['query_pre_attn_scalar']**-0.5)
for l in range(cfg['num_hidden_layers']):
    p=f'model.layers.{l}.'
    W=cfg['sliding_window'] if l%2==0 else 0
    h=rms(x,w[p+'input_layernorm.weight'])
    q=(h@w[p+'self_attn.q_proj.weight'].T).reshape(B,T,nh,hd); k=(h@w[p+'self_attn.k_proj.weight'].T).reshape(B,T,nkv,hd); v=(h@w[p+'self_attn.v_proj.weight'].T).reshape(B,T,nkv,hd)
    q=rot(q); k=np.repeat(rot(k),rep,axis=2); v=np.repeat(v,rep,axis=2)
    s=np.einsum('bihd,bjhd->bhij',q,k)*scale
    s=(np.tanh(s/DT(cap))*DT(cap)).astype(DT)
    i=np.arange(T)[:,None]; j=np.arange(T)[None,:]; mask=(j<=i)
    if W>0: mask&=(j>i-W)
    s=np.where(mask[None,None],s,-np.inf)
    pr=np.exp(s-s.max(-1,keepdims=True)); pr=(pr/pr.sum(-1,keepdims=True)).astype(DT)
    o=np.einsum('bhij,bjhd->bihd',pr,v).reshape(B,T,nh*hd)@w[p+'self_attn.o_proj.weight'].T
    x=x+rms(o,w[p+'post_attention_layernorm.weight'])
    h2=rms(x,w[p+'pre_feedforward_layernorm.weight'])
    g=h2@w[p+'mlp.gate_proj.weight'].T; u=h2@w[p+'mlp.up_proj.weight'].T
    gelu=(DT(0.5)*g*(DT(1)+np.tanh(DT(math.sqrt(2/math.pi))*(g+DT(0.044715)*g**3)))).astype(DT)
    m=(gelu*u)@w[p+'mlp.down_proj.weight'].T
    x=(x+rms(m,w[p+'post_feedforward_layernorm.weight'])).astype(DT)
    ref=r[f'resid.{l+1}']
    print(sys.argv[1], f'resid.{l+1}', np.abs(x-ref).max()/np.abs(ref).max())
