-- Sample V2Saúde registries for the sandbox (all names, documents, e-mails and phones
-- are fictional). Load after the reference schema and the municipalities:
--   psql -v ON_ERROR_STOP=1 -f sandbox/registries.sql
--
-- Ids are explicit so that sandbox/README.md can name them. The sequences are reset at
-- the end, so rows the sync inserts get the next ids.

begin;

-- Companies -------------------------------------------------------------------------
-- Company 1 has the Agendor module and the integration enabled, so it is the only
-- company the sync processes. Company 2 has the module without the integration and
-- company 3 the integration without the module. The sync must leave both alone, and the
-- fake Agendor rejects their tokens with 401.
insert into empresas (id, nome, cnpj, agendor_modulo_contratado, agendor_integracao_ativa,
                      agendor_token)
values (1, 'Distribuidora OPME Exemplo Ltda', '61.538.492/0001-68', true, true,
        'sandbox-token'),
       (2, 'Ortomed Materiais Cirúrgicos Ltda', '28.391.746/0001-92', true, false,
        'sandbox-token-empresa-2'),
       (3, 'Implantes Sul Distribuidora Ltda', '72.058.614/0001-35', false, true,
        'sandbox-token-empresa-3');

insert into usuarios (id, empresa_id, nome, email, ativo)
values (1, 1, 'Integração Agendor', 'integracao.agendor@distribuidora-opme.example.com', true),
       (2, 1, 'Fernanda Lima', 'fernanda.lima@distribuidora-opme.example.com', true),
       (3, 2, 'Integração Agendor', 'integracao.agendor@ortomed.example.com', true),
       (4, 3, 'Integração Agendor', 'integracao.agendor@implantessul.example.com', true);

update empresas set agendor_usuario_id = 1 where id = 1;
update empresas set agendor_usuario_id = 3 where id = 2;
update empresas set agendor_usuario_id = 4 where id = 3;

-- Products --------------------------------------------------------------------------
-- FIO-KIR-1.5 is the reference of two active products of company 1, so it is ambiguous.
-- Product 11 is inactive and shares PLC-3.5-08 with product 1, which stays the only
-- active match. ACT-54 exists only in company 2.
insert into produtos (id, empresa_id, codigo, descricao, referencia_fabricante, ativo)
values (1, 1, 'OPM-0101', 'Placa bloqueada de compressão 3,5 mm 8 furos', 'PLC-3.5-08', true),
       (2, 1, 'OPM-0102', 'Parafuso cortical 3,5 x 24 mm', 'PAR-CORT-3.5x24', true),
       (3, 1, 'OPM-0103', 'Parafuso bloqueado 3,5 x 20 mm', 'PAR-BLQ-3.5x20', true),
       (4, 1, 'OPM-0201', 'Haste intramedular femoral 10 x 380 mm', 'HST-FEM-10x380', true),
       (5, 1, 'OPM-0301', 'Componente acetabular 52 mm', 'ACT-52', true),
       (6, 1, 'OPM-0302', 'Cimento ósseo 40 g', 'CIM-OSS-40', true),
       (7, 1, 'OPM-0401', 'Fio de Kirschner 1,5 mm - Synthes', 'FIO-KIR-1.5', true),
       (8, 1, 'OPM-0402', 'Fio de Kirschner 1,5 mm - Traumec', 'FIO-KIR-1.5', true),
       (9, 1, 'OPM-0501', 'Parafuso pedicular 6,0 x 45 mm', 'PED-6.0x45', true),
       (10, 1, 'OPM-0502', 'Barra de titânio 5,5 x 400 mm', 'BAR-TI-5.5x400', true),
       (11, 1, 'OPM-0099', 'Placa bloqueada 3,5 mm 8 furos (modelo descontinuado)',
        'PLC-3.5-08', false),
       (12, 2, 'ORT-7781', 'Componente acetabular 54 mm', 'ACT-54', true);

-- Hospitals, health plans, doctors, sellers, procedures -----------------------------
insert into hospitais (id, empresa_id, nome, ativo)
values (1, 1, 'Hospital São Lucas', true),
       (2, 1, 'Hospital Santa Helena', true),
       (3, 1, 'Hospital Bela Vista', true),
       (4, 1, 'Hospital Ortopédico do ABC', true),
       (5, 2, 'Hospital Central de Niterói', true);

insert into convenios (id, empresa_id, nome, ativo)
values (1, 1, 'Unimed', true),
       (2, 1, 'Bradesco Saúde', true),
       (3, 1, 'SulAmérica Saúde', true),
       (4, 1, 'Amil', true),
       (5, 1, 'Particular', true),
       (6, 2, 'Porto Seguro Saúde', true);

insert into medicos (id, empresa_id, nome, crm, crm_uf, ativo)
values (1, 1, 'Ricardo Almeida Prado', '123456', 'SP', true),
       (2, 1, 'Beatriz Nogueira Campos', '52874', 'RJ', true),
       (3, 1, 'Paulo Henrique Siqueira', '41235', 'MG', true),
       (4, 1, 'Ana Luíza Ferraz', '187342', 'SP', true);

insert into vendedores (id, empresa_id, nome, email, ativo)
values (1, 1, 'Carla Menezes', 'carla.menezes@distribuidora-opme.example.com', true),
       (2, 1, 'Rafael Tavares', 'rafael.tavares@distribuidora-opme.example.com', true),
       (3, 1, 'Juliana Castro', 'juliana.castro@distribuidora-opme.example.com', true);

insert into procedimentos (id, empresa_id, descricao, ativo, criado_em)
values (1, 1, 'Osteossíntese de rádio distal', true, '2025-03-10 12:00:00+00'),
       (2, 1, 'Osteossíntese de fêmur', true, '2025-03-10 12:00:00+00'),
       (3, 1, 'Artroscopia de joelho', true, '2025-03-10 12:00:00+00'),
       (4, 1, 'Artroplastia total de quadril', true, '2025-03-10 12:00:00+00'),
       (5, 1, 'Osteossíntese de tornozelo', true, '2025-03-10 12:00:00+00');

-- Clients ---------------------------------------------------------------------------
-- Clients 1 and 2 store masked documents, as rows typed into V2 by hand do, so the sync
-- must find them by the normalised document. Client 3 belongs to company 2 and must
-- not be used for company 1.
insert into clientes (id, empresa_id, tipo_pessoa, nome, razao_social, cpf, cnpj,
                      inscricao_estadual, email, telefone, cep, logradouro, numero,
                      complemento, bairro, cidade_id, ativo, criado_por_id, criado_em)
values (1, 1, 'J', 'Hospital Bela Vista', 'Associação Beneficente Bela Vista', null,
        '47.285.163/0001-21', '635.211.404.117', 'compras@hospitalbelavista.example.com',
        '(11) 3000-0101', '09015-000', 'Rua das Figueiras', '1200', 'Bloco B', 'Centro',
        (select id from cidades where codigo_ibge = '3547809'), true, 2,
        '2025-06-02 14:00:00+00'),
       (2, 1, 'F', 'Joana Prado Ribeiro', null, '384.912.576-91', null, null,
        'joana.ribeiro@example.com', '(11) 90000-0101', '04101-300',
        'Rua Domingos de Morais', '2200', 'apto 71', 'Vila Mariana',
        (select id from cidades where codigo_ibge = '3550308'), true, 2,
        '2025-09-15 17:20:00+00'),
       (3, 2, 'J', 'Clínica São Judas', 'Clínica Médica São Judas Ltda', null,
        '90.416.382/0001-21', 'ISENTO', 'faturamento@clinicasaojudas.example.com',
        '(21) 90000-1414', '24020-000', 'Rua da Conceição', '100', null, 'Centro',
        (select id from cidades where codigo_ibge = '3303302'), true, 3,
        '2025-08-20 11:00:00+00');

-- Surgeries -------------------------------------------------------------------------
-- An earlier run integrated deal 48210003, so the sync must report it as already
-- integrated and write nothing for it.
insert into cirurgias (id, empresa_id, codigo_legado, cliente_id, hospital_id, convenio_id,
                       medico_id, procedimento_id, vendedor_id, usuario_id, paciente,
                       data_cirurgia, observacao, observacao_agendamento, etapa, status,
                       data_cadastro)
values (1, 1, 'agendor-48210003', 1, 3, 1, 1, 2, 1, 1, 'Luiz Fernando Duarte', '2026-11-02',
        'Criada a partir do Agendor: '
            || 'https://web.agendor.com.br/sistema/negocios/historico.php?id=48210003',
        null, 'ORCAMENTO_PRE', 'APROVADA', '2026-11-03 06:00:00+00');

insert into cirurgia_orcamentos (id, cirurgia_id, tipo, observacao)
values (1, 1, 'PRE', null);

insert into cirurgia_orcamento_itens (id, orcamento_id, sequencia, produto_id, quantidade,
                                      valor_unitario, desconto, valor_total)
values (1, 1, 1, 4, 1, 6890.00, 0, 6890.00);

-- Sequences -------------------------------------------------------------------------
do $$
declare
    table_name text;
begin
    foreach table_name in array array[
        'empresas', 'usuarios', 'produtos', 'hospitais', 'convenios', 'medicos',
        'vendedores', 'procedimentos', 'clientes', 'cirurgias', 'cirurgia_orcamentos',
        'cirurgia_orcamento_itens'
    ] loop
        execute format(
            'select setval(pg_get_serial_sequence(%L, ''id''), (select max(id) from %I))',
            table_name, table_name
        );
    end loop;
end
$$;

commit;
